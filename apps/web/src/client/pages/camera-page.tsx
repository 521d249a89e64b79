/**
 * One camera: identity and status, volume and speed over the chosen range, live counts per lane and
 * class (rolling hour, exact under retries — see lib/live-counts.ts), the live crossing feed, geometry.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
// Stream URLs often carry credentials (rtsp://user:pass@host): never on screen. The module's own entry,
// not '@its/core', whose other modules import node: built-ins that a browser lacks.
import { redactUrl } from '@its/core/redact-url';
import {
  VEHICLE_CLASSES,
  type Camera,
  type CameraStatusState,
  type CrossingEvent,
  type LiveEvent,
} from '@its/contracts';
import { ApiError, describeError } from '../lib/api-client.js';
import {
  formatClock,
  formatCount,
  formatPct,
  formatRelative,
  formatSpeed,
  titleCase,
} from '../lib/format.js';
import {
  useAsync,
  useDocumentTitle,
  useInterval,
  useLiveEvents,
  useLiveState,
  useNow,
  useServices,
} from '../lib/hooks.js';
import {
  applyLiveEvent,
  reseedLiveCounts,
  summarizeLiveCounts,
  type LiveCounts,
} from '../lib/live-counts.js';
import {
  RANGE_IDS,
  RANGES,
  fillSeries,
  pivotVolume,
  planRangeWindow,
  planWindow,
  summarizeSeries,
  type RangeId,
} from '../lib/ranges.js';
import { navigate } from '../lib/router.js';
import { Legend, LineChart, VolumeChart } from '../components/charts.js';
import {
  Card,
  EmptyState,
  ErrorState,
  Icon,
  Link,
  Loading,
  Stat,
  StatusBadge,
  classColor,
} from '../components/ui.js';

const LIVE_WINDOW_MS = 60 * 60_000;
const FEED_SIZE = 25;
const SERIES_REFRESH_MS = 60_000;
/** Column headings on a phone, where six full class names do not fit beside the lane names. */
const SHORT_CLASS: Record<string, string> = {
  car: 'Car',
  bus: 'Bus',
  truck: 'Truck',
  motorcycle: 'Moto',
  bicycle: 'Bike',
  person: 'Ped',
};

export function CameraPage({ id, range }: { id: string; range: RangeId }) {
  const { api } = useServices();
  const camera = useAsync((signal) => api.getCamera(id, { signal }), [id]);
  const [status, setStatus] = useState<{
    state: CameraStatusState;
    reason: string | null;
    at: string;
  } | null>(null);
  useDocumentTitle(camera.data?.name ?? 'Camera');

  useLiveEvents((ev) => {
    if (ev.type === 'camera-status' && ev.data.cameraId === id) {
      setStatus({ state: ev.data.state, reason: ev.data.reason, at: new Date().toISOString() });
    }
  });
  useEffect(() => setStatus(null), [id]);

  if (camera.status === 'loading') {
    return (
      <div class="page">
        <Loading label="Loading camera" lines={2} height={28} />
      </div>
    );
  }
  if (!camera.data) {
    const notFound = camera.error instanceof ApiError && camera.error.status === 404;
    return (
      <div class="page">
        <Breadcrumb name={notFound ? 'Not found' : 'Error'} />
        {notFound ? (
          <EmptyState title="This camera does not exist" icon="camera" data-testid="camera-not-found">
            <p>
              It may have been deleted. <Link href="/">Back to all cameras</Link>
            </p>
          </EmptyState>
        ) : (
          <ErrorState
            title="The camera could not be loaded"
            message={describeError(camera.error)}
            onRetry={camera.reload}
          />
        )}
      </div>
    );
  }
  const cam: Camera = status
    ? {
        ...camera.data,
        status: {
          state: status.state,
          reason: status.reason,
          lastSeenAt: status.state === 'online' ? status.at : camera.data.status.lastSeenAt,
        },
      }
    : camera.data;
  return <CameraView camera={cam} range={range} />;
}

function Breadcrumb({ name }: { name: string }) {
  return (
    <nav class="breadcrumb" aria-label="Breadcrumb">
      <Link href="/">Cameras</Link>
      <span aria-hidden="true">/</span>
      <span aria-current="page">{name}</span>
    </nav>
  );
}

function CameraView({ camera, range }: { camera: Camera; range: RangeId }) {
  const now = useNow();
  const lanes = useMemo(() => [...new Set(camera.lines.map((l) => l.lane))], [camera.lines]);
  return (
    <div class="page" data-testid="camera-page" data-camera-id={camera.id}>
      <Breadcrumb name={camera.name} />
      <header class="page-header page-header--camera">
        <div class="page-header__main">
          <h1 class="page-title" data-testid="camera-name">
            {camera.name}
          </h1>
          <div class="camera-meta">
            <StatusBadge state={camera.status.state} disabled={!camera.enabled} />
            {camera.status.reason && camera.status.state !== 'online' && (
              <span
                class={`status-reason status-reason--${camera.status.state}`}
                data-testid="camera-status-reason"
              >
                {camera.status.reason}
              </span>
            )}
            <span class="meta-item">
              Last seen{' '}
              <time
                dateTime={camera.status.lastSeenAt ?? undefined}
                title={camera.status.lastSeenAt ?? 'never'}
              >
                {formatRelative(camera.status.lastSeenAt, now)}
              </time>
            </span>
            <span class="meta-item">
              <Icon name="pin" class="icon--inline" />
              {camera.location.lat.toFixed(5)}, {camera.location.lon.toFixed(5)}
            </span>
          </div>
        </div>
        <RangePicker cameraId={camera.id} range={range} />
      </header>

      <RangeSection camera={camera} range={range} />

      <div class="grid grid--2-1">
        <LiveCountsCard camera={camera} lanes={lanes} />
        <LiveFeedCard cameraId={camera.id} />
      </div>

      <GeometryCard camera={camera} />
    </div>
  );
}

function RangePicker({ cameraId, range }: { cameraId: string; range: RangeId }) {
  return (
    <div class="segmented segmented--range" role="group" aria-label="Time range" data-testid="range-picker">
      {RANGE_IDS.map((r) => (
        <button
          key={r}
          type="button"
          class="segmented__item"
          aria-pressed={r === range}
          title={RANGES[r].label}
          data-range={r}
          onClick={() => navigate(`/cameras/${encodeURIComponent(cameraId)}?range=${r}`, { replace: true })}
        >
          {RANGES[r].short}
        </button>
      ))}
    </div>
  );
}

function RangeSection({ camera, range }: { camera: Camera; range: RangeId }) {
  const { api } = useServices();
  const spec = RANGES[range];
  const series = useAsync(
    async (signal) => {
      const nowMs = Date.now();
      const w = planRangeWindow(range, nowMs);
      const base = { cameraId: camera.id, from: w.from, to: w.to, bucket: w.bucket };
      const [byClass, overall] = await Promise.all([
        api.getAggregates({ ...base, groupBy: 'class' }, { signal }),
        api.getAggregates(base, { signal }),
      ]);
      return { w, nowMs, byClass, overall };
    },
    [camera.id, range],
  );

  // New aggregates arrive once a minute per lane × class: coalesce them into one refresh.
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvents((ev) => {
    if (ev.type !== 'aggregate' || ev.data.cameraId !== camera.id || pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      series.reload();
    }, 2000);
  });
  useEffect(
    () => () => {
      if (pending.current) clearTimeout(pending.current);
    },
    [],
  );
  useInterval(series.reload, SERIES_REFRESH_MS);

  const d = series.data;
  const summary = d ? summarizeSeries(d.overall.buckets, d.w, d.nowMs) : null;
  const stacked = d ? pivotVolume(d.byClass.buckets, d.w.starts, (b) => b.class) : null;
  const classKeys = stacked
    ? [...stacked.keys].sort(
        (a, b) => VEHICLE_CLASSES.indexOf(a as never) - VEHICLE_CLASSES.indexOf(b as never),
      )
    : [];
  const points = d ? fillSeries(d.overall.buckets, d.w.starts) : [];
  const hasData = (summary?.volume ?? 0) > 0 || (d?.overall.buckets.length ?? 0) > 0;
  const failed = series.status === 'error' && !d;

  return (
    <>
      <dl class="stats" aria-label={`Summary, ${spec.label.toLowerCase()}`} data-testid="range-stats">
        <Stat
          label={`Vehicles · ${spec.short}`}
          value={summary ? formatCount(summary.volume) : '—'}
          data-testid="stat-range-volume"
        />
        <Stat
          label="Mean speed"
          value={summary ? formatSpeed(summary.meanSpeedKmh) : '—'}
          hint="volume-weighted"
          data-testid="stat-mean-speed"
        />
        <Stat
          label="85th percentile speed"
          value={summary ? formatSpeed(summary.p85SpeedKmh) : '—'}
          hint="approximate"
          data-testid="stat-p85-speed"
        />
        <Stat
          label="Occupancy"
          value={summary ? formatPct(summary.occupancyPct) : '—'}
          hint="mean over all minutes"
          data-testid="stat-occupancy"
        />
      </dl>

      <div class="grid grid--2">
        <Card
          title="Volume"
          id="volume"
          actions={
            <span class="muted small">
              {spec.label} · per {bucketLabel(d?.w.bucketMs ?? 0)}
            </span>
          }
        >
          {series.status === 'loading' && <Loading label="Loading volume" lines={1} height={240} />}
          {failed && (
            <ErrorState
              title="Volume could not be loaded"
              message={describeError(series.error)}
              onRetry={series.reload}
            />
          )}
          {d && !hasData && (
            <EmptyState
              title={`No traffic recorded · ${spec.label.toLowerCase()}`}
              icon="chart"
              data-testid="volume-empty"
            />
          )}
          {d && hasData && stacked && (
            <>
              <VolumeChart
                rows={stacked.rows}
                keys={classKeys}
                bucketMs={d.w.bucketMs}
                label={`Vehicle volume per ${bucketLabel(d.w.bucketMs)}, ${spec.label.toLowerCase()}, by class; ${formatCount(summary?.volume ?? 0)} in total`}
              />
              <Legend items={classKeys.map((k) => ({ key: k, label: titleCase(k), color: classColor(k) }))} />
            </>
          )}
        </Card>
        <Card
          title="Speed"
          id="speed"
          actions={<span class="muted small">km/h · {spec.label.toLowerCase()}</span>}
        >
          {series.status === 'loading' && <Loading label="Loading speed" lines={1} height={240} />}
          {failed && (
            <ErrorState
              title="Speed could not be loaded"
              message={describeError(series.error)}
              onRetry={series.reload}
            />
          )}
          {d && !points.some((p) => p.meanSpeedKmh !== null) && (
            <EmptyState title="No speed measurements in this range" icon="pulse" data-testid="speed-empty">
              <p>
                {camera.calibration
                  ? 'No vehicle was measured in this range.'
                  : 'Speed needs a calibrated camera (four image points ↔ ground metres).'}
              </p>
            </EmptyState>
          )}
          {d && points.some((p) => p.meanSpeedKmh !== null) && (
            <>
              <LineChart
                starts={points.map((p) => p.start)}
                bucketMs={d.w.bucketMs}
                unit="km/h"
                label={`Mean and 85th-percentile speed, ${spec.label.toLowerCase()}; mean ${formatSpeed(summary?.meanSpeedKmh ?? null)}`}
                series={[
                  {
                    key: 'mean',
                    label: 'Mean',
                    color: 'var(--accent)',
                    values: points.map((p) => p.meanSpeedKmh),
                  },
                  {
                    key: 'p85',
                    label: '85th percentile',
                    color: 'var(--warn)',
                    dashed: true,
                    values: points.map((p) => p.p85SpeedKmh),
                  },
                ]}
              />
              <Legend
                items={[
                  { key: 'mean', label: 'Mean', color: 'var(--accent)' },
                  { key: 'p85', label: '85th percentile', color: 'var(--warn)', dashed: true },
                ]}
              />
            </>
          )}
        </Card>
      </div>
    </>
  );
}

function bucketLabel(ms: number): string {
  if (ms >= 86_400_000) return 'day';
  if (ms >= 3_600_000) return 'hour';
  if (ms >= 900_000) return '15 min';
  return 'minute';
}

function LiveCountsCard({ camera, lanes }: { camera: Camera; lanes: string[] }) {
  const { api } = useServices();
  const liveState = useLiveState();
  const now = useNow(10_000);
  const seed = useAsync(
    (signal) => {
      const w = planWindow(LIVE_WINDOW_MS, '1m', Date.now());
      return api.getAggregates(
        { cameraId: camera.id, from: w.from, to: w.to, bucket: '1m', groupBy: 'lane,class' },
        { signal },
      );
    },
    [camera.id],
  );
  const [counts, setCounts] = useState<LiveCounts | null>(null);
  // Events that arrive while the first seed is in flight are replayed onto it, not lost.
  const early = useRef<LiveEvent[]>([]);
  const seeded = useRef(false);
  const [bumped, setBumped] = useState<Set<string>>(new Set());

  useEffect(() => {
    seeded.current = false;
    setCounts(null);
  }, [camera.id]);

  useEffect(() => {
    if (!seed.data) return;
    const buckets = seed.data.buckets;
    const replay = early.current;
    early.current = [];
    seeded.current = true;
    // A periodic re-seed keeps the crossings not yet covered by an aggregate.
    setCounts((prev) => reseedLiveCounts(camera.id, buckets, prev, replay));
  }, [seed.data, camera.id]);

  useLiveEvents((ev) => {
    if (ev.type === 'camera-status') return;
    if (!seeded.current) {
      early.current.push(ev);
      return;
    }
    setCounts((c) => (c ? applyLiveEvent(c, ev) : c));
    if (ev.type === 'crossing' && ev.data.cameraId === camera.id) {
      const key = `${ev.data.lane}|${ev.data.class}`;
      setBumped((b) => new Set(b).add(key));
      setTimeout(
        () =>
          setBumped((b) => {
            const n = new Set(b);
            n.delete(key);
            return n;
          }),
        1500,
      );
    }
  });
  useInterval(seed.reload, 5 * 60_000);

  const summary = counts ? summarizeLiveCounts(counts, now, LIVE_WINDOW_MS, lanes, VEHICLE_CLASSES) : null;
  return (
    <Card
      title="Live counts · last 60 min"
      id="live-counts"
      data-testid="live-counts"
      actions={<LiveIndicator state={liveState} />}
    >
      {seed.status === 'loading' && !counts && <Loading label="Loading counts" lines={4} height={28} />}
      {seed.status === 'error' && !counts && (
        <ErrorState
          title="Counts could not be loaded"
          message={describeError(seed.error)}
          onRetry={seed.reload}
        />
      )}
      {summary && summary.lanes.length === 0 && (
        <EmptyState title="No count lines and no traffic yet" icon="pulse">
          <p>Counts appear here as the vision worker reports crossings.</p>
        </EmptyState>
      )}
      {summary && summary.lanes.length > 0 && (
        <div class="table-scroll">
          <table class="table counts-table" data-testid="counts-table">
            <caption class="visually-hidden">
              Vehicles per lane and class in the last 60 minutes, updated live
            </caption>
            <thead>
              <tr>
                <th scope="col">Lane</th>
                {summary.classes.map((c) => (
                  <th scope="col" class="num" key={c}>
                    <span class="swatch" style={{ background: classColor(c) }} aria-hidden="true" />
                    <span class="class-label__full">{titleCase(c)}</span>
                    <span class="class-label__short" aria-hidden="true">
                      {SHORT_CLASS[c] ?? c}
                    </span>
                  </th>
                ))}
                <th scope="col" class="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {summary.lanes.map((lane) => (
                <tr key={lane} data-testid="counts-row" data-lane={lane}>
                  <th scope="row">{lane}</th>
                  {summary.classes.map((c) => {
                    const key = `${lane}|${c}`;
                    return (
                      <td
                        class={`num ${bumped.has(key) ? 'is-bumped' : ''}`}
                        key={c}
                        data-testid={`count-${lane}-${c}`}
                      >
                        {formatCount(summary.cells.get(key) ?? 0)}
                      </td>
                    );
                  })}
                  <td class="num strong" data-testid={`count-${lane}-total`}>
                    {formatCount(summary.laneTotals.get(lane) ?? 0)}
                  </td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All lanes</th>
                {summary.classes.map((c) => (
                  <td class="num" key={c}>
                    {formatCount(summary.classTotals.get(c) ?? 0)}
                  </td>
                ))}
                <td class="num strong" data-testid="count-total">
                  {formatCount(summary.total)}
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
    </Card>
  );
}

export function LiveIndicator({ state }: { state: ReturnType<typeof useLiveState> }) {
  const label =
    state === 'live'
      ? 'Live'
      : state === 'connecting'
        ? 'Connecting…'
        : state === 'reconnecting'
          ? 'Reconnecting…'
          : 'Live updates unavailable';
  return (
    <span
      class={`live live--${state}`}
      data-testid="live-indicator"
      data-state={state}
      role="status"
      title={label}
    >
      <span class="live__dot" aria-hidden="true" />
      <span class="live__label">{label}</span>
    </span>
  );
}

function LiveFeedCard({ cameraId }: { cameraId: string }) {
  const [feed, setFeed] = useState<CrossingEvent[]>([]);
  useEffect(() => setFeed([]), [cameraId]);
  useLiveEvents((ev) => {
    if (ev.type !== 'crossing' || ev.data.cameraId !== cameraId) return;
    setFeed((f) => (f.some((e) => e.id === ev.data.id) ? f : [ev.data, ...f].slice(0, FEED_SIZE)));
  });
  return (
    <Card title="Recent crossings" id="feed" data-testid="live-feed">
      {feed.length === 0 ? (
        <EmptyState title="Waiting for crossings…" icon="pulse" data-testid="feed-empty">
          <p>Each vehicle crossing a count line appears here the moment it is reported.</p>
        </EmptyState>
      ) : (
        <ol class="feed" aria-live="polite" aria-label="Crossings, newest first">
          {feed.map((e) => (
            <li class="feed__item" key={e.id} data-testid="feed-item" data-lane={e.lane} data-class={e.class}>
              <span class="feed__class" style={{ background: classColor(e.class) }} aria-hidden="true" />
              <span class="feed__main">
                <span class="strong">{titleCase(e.class)}</span>
                <span class="muted">
                  {' '}
                  · {e.lane} · {e.direction}
                </span>
              </span>
              <span class="feed__speed">{e.speedKmh === null ? '' : formatSpeed(e.speedKmh)}</span>
              <time class="feed__time muted" dateTime={e.ts}>
                {formatClock(Date.parse(e.ts), true)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

function GeometryCard({ camera }: { camera: Camera }) {
  const hasGeometry = camera.lines.length > 0 || camera.zones.length > 0;
  return (
    <Card
      title="Analytics geometry"
      id="geometry"
      actions={
        <span class="muted small">{camera.calibration ? 'Speed calibrated' : 'No speed calibration'}</span>
      }
    >
      {!hasGeometry ? (
        <EmptyState title="No count lines or zones configured" icon="grid" />
      ) : (
        <div class="geometry">
          <svg
            class="scene"
            viewBox="0 0 160 90"
            role="img"
            aria-label={`Camera view with ${camera.lines.length} count lines and ${camera.zones.length} zones`}
          >
            <rect class="scene__frame" x="0" y="0" width="160" height="90" rx="2" />
            {camera.zones.map((z) => (
              <polygon
                key={z.id}
                class="scene__zone"
                points={z.polygon.map((p) => `${p.x * 160},${p.y * 90}`).join(' ')}
              />
            ))}
            {camera.lines.map((l) => (
              <g key={l.id} class="scene__line">
                <line x1={l.a.x * 160} y1={l.a.y * 90} x2={l.b.x * 160} y2={l.b.y * 90} />
                <circle cx={l.a.x * 160} cy={l.a.y * 90} r="1.4" />
                <circle cx={l.b.x * 160} cy={l.b.y * 90} r="1.4" />
                <text
                  x={((l.a.x + l.b.x) / 2) * 160}
                  y={((l.a.y + l.b.y) / 2) * 90 - 2.5}
                  text-anchor="middle"
                >
                  {l.lane}
                </text>
              </g>
            ))}
          </svg>
          <table class="table geometry__table">
            <thead>
              <tr>
                <th scope="col">Count line</th>
                <th scope="col">Lane</th>
                <th scope="col">Counts</th>
              </tr>
            </thead>
            <tbody>
              {camera.lines.map((l) => (
                <tr key={l.id}>
                  <td>{l.name}</td>
                  <td>{l.lane}</td>
                  <td>{l.direction === 'both' ? 'both directions' : `${l.direction} only`}</td>
                </tr>
              ))}
              {camera.zones.map((z) => (
                <tr key={z.id}>
                  <td>{z.name}</td>
                  <td>{z.lane ?? '—'}</td>
                  <td>occupancy zone</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted small stream-url">
            <Icon name="link" class="icon--inline" />
            <span class="visually-hidden">Stream URL: </span>
            <code>{redactUrl(camera.streamUrl, { mask: '•••' })}</code>
          </p>
        </div>
      )}
    </Card>
  );
}
