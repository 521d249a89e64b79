/** Camera list: fleet status at a glance, each camera's last-24-hour volume, live status changes. */
import { useMemo, useState } from 'preact/hooks';
import type { Camera, CameraStatusState } from '@its/contracts';
import { describeError } from '../lib/api-client.js';
import { formatCompact, formatCount, formatRelative } from '../lib/format.js';
import { useAsync, useDocumentTitle, useInterval, useLiveEvents, useNow, useServices } from '../lib/hooks.js';
import { pivotVolume, planWindow } from '../lib/ranges.js';
import { Sparkline } from '../components/charts.js';
import { Card, EmptyState, ErrorState, Icon, Link, Loading, Stat, StatusBadge } from '../components/ui.js';

type Filter = 'all' | 'online' | 'attention';
type StatusOverride = { state: CameraStatusState; reason: string | null; at: string };

const REFRESH_MS = 30_000;
const DAY_MS = 86_400_000;

/** Offline, starting and unknown cameras need an operator's eye; disabled ones do not. */
const needsAttention = (c: Camera) => c.enabled && c.status.state !== 'online';

export function OverviewPage() {
  useDocumentTitle('Cameras');
  const { api } = useServices();
  const now = useNow();
  const [filter, setFilter] = useState<Filter>('all');
  const [query, setQuery] = useState('');
  const [overrides, setOverrides] = useState<Record<string, StatusOverride>>({});

  const cameras = useAsync((signal) => api.listCameras({ limit: 500, signal }), []);
  // One request for every camera's sparkline: hourly buckets over the last day, split by camera.
  const volume = useAsync((signal) => {
    const w = planWindow(DAY_MS, '1h', Date.now());
    return api
      .getAggregates({ from: w.from, to: w.to, bucket: w.bucket, groupBy: 'camera' }, { signal })
      .then((s) => pivotVolume(s.buckets, w.starts, (b) => b.cameraId));
  }, []);

  useInterval(() => {
    cameras.reload();
    volume.reload();
  }, REFRESH_MS);

  useLiveEvents((ev) => {
    if (ev.type !== 'camera-status') return;
    const { cameraId, state, reason } = ev.data;
    setOverrides((o) => ({ ...o, [cameraId]: { state, reason, at: new Date().toISOString() } }));
  });

  const list = useMemo(() => {
    const items = cameras.data?.items ?? [];
    return items.map((c) => {
      const o = overrides[c.id];
      return o && (!c.status.lastSeenAt || o.at > c.status.lastSeenAt || o.state !== c.status.state)
        ? {
            ...c,
            status: {
              state: o.state,
              reason: o.reason,
              lastSeenAt: o.state === 'online' ? o.at : c.status.lastSeenAt,
            },
          }
        : c;
    });
  }, [cameras.data, overrides]);

  const perCamera = useMemo(() => {
    const m = new Map<string, number[]>();
    const v = volume.data;
    if (!v) return m;
    for (const key of v.keys)
      m.set(
        key,
        v.rows.map((r) => r.values[key] ?? 0),
      );
    return m;
  }, [volume.data]);

  const online = list.filter((c) => c.enabled && c.status.state === 'online').length;
  const attention = list.filter(needsAttention).length;
  const total24h = [...perCamera.values()].reduce((s, vs) => s + vs.reduce((a, b) => a + b, 0), 0);

  const q = query.trim().toLowerCase();
  const shown = list
    .filter((c) =>
      filter === 'online'
        ? c.enabled && c.status.state === 'online'
        : filter === 'attention'
          ? needsAttention(c)
          : true,
    )
    .filter((c) => !q || c.name.toLowerCase().includes(q))
    .sort((a, b) => Number(needsAttention(b)) - Number(needsAttention(a)) || a.name.localeCompare(b.name));

  return (
    <div class="page" data-testid="overview-page">
      <header class="page-header">
        <div>
          <h1 class="page-title">Cameras</h1>
          <p class="page-subtitle">Status and traffic volume across the network</p>
        </div>
      </header>

      <dl class="stats" aria-label="Fleet summary">
        <Stat
          label="Cameras"
          value={cameras.data ? formatCount(cameras.data.total) : '—'}
          data-testid="stat-cameras"
        />
        <Stat
          label="Online"
          value={cameras.data ? formatCount(online) : '—'}
          tone={cameras.data && online > 0 ? 'ok' : undefined}
          data-testid="stat-online"
        />
        <Stat
          label="Need attention"
          value={cameras.data ? formatCount(attention) : '—'}
          tone={attention > 0 ? 'bad' : undefined}
          hint={
            attention > 0
              ? 'offline, starting or unknown'
              : cameras.data
                ? 'all enabled cameras online'
                : undefined
          }
          data-testid="stat-attention"
        />
        <Stat
          label="Vehicles, last 24 h"
          value={volume.data ? formatCompact(total24h) : '—'}
          data-testid="stat-volume"
        />
      </dl>

      <Card
        title="All cameras"
        id="camera-list"
        actions={
          <div class="toolbar">
            <label class="search">
              <span class="visually-hidden">Search cameras by name</span>
              <input
                type="search"
                placeholder="Search cameras"
                value={query}
                onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
              />
            </label>
            <div class="segmented" role="group" aria-label="Filter by status">
              {(['all', 'online', 'attention'] as const).map((f) => (
                <button
                  key={f}
                  type="button"
                  class="segmented__item"
                  aria-pressed={filter === f}
                  onClick={() => setFilter(f)}
                >
                  {f === 'all' ? 'All' : f === 'online' ? 'Online' : 'Attention'}
                </button>
              ))}
            </div>
          </div>
        }
      >
        {cameras.status === 'loading' && <Loading label="Loading cameras" lines={4} height={44} />}
        {cameras.status === 'error' && !cameras.data && (
          <ErrorState
            title="Cameras could not be loaded"
            message={describeError(cameras.error)}
            onRetry={cameras.reload}
          />
        )}
        {cameras.data && list.length === 0 && (
          <EmptyState title="No cameras yet" icon="camera">
            <p>
              Add one through the API: <code>POST /api/v1/cameras</code> with a name, stream URL, location and
              count lines.
            </p>
          </EmptyState>
        )}
        {cameras.data && list.length > 0 && shown.length === 0 && (
          <EmptyState title="No camera matches this filter" icon="camera" />
        )}
        {shown.length > 0 && (
          <table class="table camera-table" data-testid="camera-table">
            <thead>
              <tr>
                <th scope="col">Camera</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
                <th scope="col" class="num">
                  Lanes
                </th>
                <th scope="col" class="num">
                  Last 24 h
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((c) => {
                const spark = perCamera.get(c.id) ?? [];
                const sum = spark.reduce((a, b) => a + b, 0);
                const lanes = new Set(c.lines.map((l) => l.lane)).size;
                return (
                  <tr key={c.id} data-testid="camera-row" data-camera-id={c.id}>
                    <td data-label="Camera">
                      <Link
                        href={`/cameras/${encodeURIComponent(c.id)}`}
                        class="camera-link"
                        data-testid="camera-link"
                      >
                        {c.name}
                      </Link>
                      <span class="muted small camera-loc">
                        <Icon name="pin" class="icon--inline" />
                        {c.location.lat.toFixed(4)}, {c.location.lon.toFixed(4)}
                      </span>
                    </td>
                    <td data-label="Status">
                      <StatusBadge state={c.status.state} disabled={!c.enabled} />
                      {c.status.reason && c.status.state !== 'online' && (
                        <span
                          class={`status-reason status-reason--${c.status.state}`}
                          data-testid="camera-status-reason"
                        >
                          {c.status.reason}
                        </span>
                      )}
                    </td>
                    <td data-label="Last seen">
                      <time
                        dateTime={c.status.lastSeenAt ?? undefined}
                        title={c.status.lastSeenAt ?? 'never'}
                        data-testid="camera-last-seen"
                      >
                        {formatRelative(c.status.lastSeenAt, now)}
                      </time>
                    </td>
                    <td data-label="Lanes" class="num">
                      {lanes}
                    </td>
                    <td data-label="Last 24 h" class="num">
                      <span class="volume-cell">
                        <Sparkline
                          values={spark.length ? spark : [0, 0]}
                          width={96}
                          height={28}
                          label={`Hourly volume, last 24 hours, ${formatCount(sum)} in total`}
                        />
                        <span class="volume-cell__value" data-testid="camera-volume-24h">
                          {volume.data ? formatCompact(sum) : '—'}
                        </span>
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {cameras.data && cameras.data.total > cameras.data.items.length && (
          <p class="muted small table-note">
            Showing {cameras.data.items.length} of {cameras.data.total} cameras.
          </p>
        )}
      </Card>
    </div>
  );
}
