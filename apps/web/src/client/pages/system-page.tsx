/**
 * System health: the API's deep readiness checks and the vision workers with the cameras each holds,
 * refreshed while the page is open.
 */
import { describeError } from '../lib/api-client.js';
import { formatAgo, formatClock, formatCount, formatDuration, titleCase } from '../lib/format.js';
import { useAsync, useDocumentTitle, useInterval, useLiveState, useNow, useServices } from '../lib/hooks.js';
import { summarizeWorkers, type WorkerRow, type WorkersView } from '../lib/workers.js';
import { Card, EmptyState, ErrorState, Icon, Link, Loading } from '../components/ui.js';
import { LiveIndicator } from './camera-page.js';

const REFRESH_MS = 15_000;
/** Heartbeat and lease ages count in seconds between refreshes. */
const TICK_MS = 1_000;
/** The vision worker's README ("Run"); the key needs the ingest scope. */
const START_WORKER = 'npm run build -w @its/vision-worker && API_KEY=its_... npm start -w @its/vision-worker';

export function SystemPage() {
  useDocumentTitle('System');
  const { api, config } = useServices();
  const liveState = useLiveState();
  const ready = useAsync(
    async (signal) => ({ report: await api.getReadiness({ signal }), at: Date.now() }),
    [],
  );
  // Names come from the camera list the overview uses: the workers answer carries ids only.
  const workers = useAsync(async (signal) => {
    const [list, cameras] = await Promise.all([
      api.getWorkers({ signal }),
      api.listCameras({ limit: 500, signal }),
    ]);
    return { list, cameras: cameras.items, at: Date.now() };
  }, []);
  const refresh = () => {
    ready.reload();
    workers.reload();
  };
  useInterval(refresh, REFRESH_MS);
  const now = useNow(TICK_MS);
  const fleet = workers.data
    ? summarizeWorkers(workers.data.list, workers.data.cameras, now - workers.data.at)
    : null;

  const report = ready.data?.report;
  const failing = report?.checks.filter((c) => c.status === 'fail') ?? [];
  return (
    <div class="page" data-testid="system-page">
      <header class="page-header">
        <div>
          <h1 class="page-title">System</h1>
          <p class="page-subtitle">Readiness of the API and the services it depends on</p>
        </div>
        <button type="button" class="button button--secondary" onClick={refresh} data-testid="system-refresh">
          <Icon name="refresh" class="icon--inline" />
          Check now
        </button>
      </header>

      {ready.status === 'loading' && !report && <Loading label="Checking the API" lines={3} height={52} />}
      {ready.status === 'error' && (
        <ErrorState
          title="The API did not answer its readiness check"
          message={describeError(ready.error)}
          onRetry={ready.reload}
        />
      )}

      {report && (
        <>
          <div
            class={`banner banner--${report.status === 'ok' ? 'ok' : 'bad'}`}
            role="status"
            data-testid="readiness-banner"
            data-status={report.status}
          >
            <Icon name={report.status === 'ok' ? 'check' : 'alert'} class="banner__icon" />
            <div>
              <p class="banner__title">
                {report.status === 'ok'
                  ? 'All systems operational'
                  : `${failing.length} ${failing.length === 1 ? 'check is' : 'checks are'} failing`}
              </p>
              <p class="banner__sub">
                API {report.version} · checked at {ready.data ? formatClock(ready.data.at, true) : '—'} ·
                refreshes every {REFRESH_MS / 1000} s
              </p>
            </div>
          </div>

          <Card title="Readiness checks" id="checks">
            <ul class="checks" data-testid="readiness-checks">
              {report.checks.map((c) => (
                <li
                  class={`check check--${c.status}`}
                  key={c.name}
                  data-testid={`check-${c.name}`}
                  data-status={c.status}
                >
                  <span class="check__icon" aria-hidden="true">
                    <Icon name={c.status === 'ok' ? 'check' : c.status === 'fail' ? 'x' : 'minus'} />
                  </span>
                  <div class="check__body">
                    <p class="check__name">{titleCase(c.name)}</p>
                    <p class="check__reason">
                      {c.reason ??
                        (c.status === 'ok'
                          ? 'Healthy'
                          : c.status === 'skipped'
                            ? 'Not configured'
                            : 'Failing')}
                    </p>
                  </div>
                  <span class={`pill pill--${c.status}`} data-testid="check-status">
                    {c.status === 'ok' ? 'OK' : c.status === 'fail' ? 'Failing' : 'Skipped'}
                  </span>
                  <span class="check__duration muted small">{c.durationMs.toFixed(0)} ms</span>
                </li>
              ))}
            </ul>
          </Card>
        </>
      )}

      <Card
        title="Vision workers"
        id="workers"
        data-testid="workers"
        actions={
          fleet && (
            <p class="muted small workers__summary" data-testid="workers-summary">
              {fleet.live} of {fleet.workers.length} live · {formatCount(fleet.held)}{' '}
              {fleet.held === 1 ? 'camera' : 'cameras'} held · lease TTL {fleet.ttlS} s
            </p>
          )
        }
      >
        {workers.status === 'loading' && !fleet && (
          <Loading label="Loading the vision workers" lines={2} height={64} />
        )}
        {workers.status === 'error' && (
          <ErrorState
            title="The API did not list its vision workers"
            message={describeError(workers.error)}
            onRetry={workers.reload}
          />
        )}
        {fleet && <VisionWorkers fleet={fleet} />}
      </Card>

      <Card title="Connection" id="connection">
        <dl class="kv">
          <div>
            <dt>API</dt>
            <dd>
              <code data-testid="api-base-url">{config.apiBaseUrl}</code>
            </dd>
          </div>
          <div>
            <dt>Live updates</dt>
            <dd>
              <LiveIndicator state={liveState} />
            </dd>
          </div>
          <div>
            <dt>Dashboard version</dt>
            <dd>{config.version}</dd>
          </div>
          <div>
            <dt>API version</dt>
            <dd>{report?.version ?? '—'}</dd>
          </div>
        </dl>
      </Card>
    </div>
  );
}

function VisionWorkers({ fleet }: { fleet: WorkersView }) {
  const n = fleet.unassigned.length;
  return (
    <>
      {n > 0 && (
        <div
          class="banner banner--warn workers__warning"
          role="status"
          data-testid="unassigned-cameras"
          data-count={n}
        >
          <Icon name="alert" class="banner__icon" />
          <div>
            <p class="banner__title">
              {n} {n === 1 ? 'camera has' : 'cameras have'} no worker
            </p>
            <p class="banner__sub">
              Enabled, but no live worker holds {n === 1 ? 'it' : 'them'}: nothing counts{' '}
              {n === 1 ? 'its' : 'their'} traffic until a worker with room takes {n === 1 ? 'it' : 'them'}.
            </p>
            <ul class="link-list" aria-label="Unassigned cameras">
              {fleet.unassigned.map((c) => (
                <li key={c.id} data-camera-id={c.id}>
                  <Link href={c.href} data-testid="unassigned-camera-link">
                    {c.name}
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        </div>
      )}
      {fleet.workers.length === 0 ? (
        <EmptyState
          title="No vision worker has registered in the last hour"
          icon="server"
          data-testid="workers-empty"
        >
          <p>Start one, with an API key that has the ingest scope:</p>
          <p>
            <code>{START_WORKER}</code>
          </p>
        </EmptyState>
      ) : (
        <ul class="workers" data-testid="worker-list">
          {fleet.workers.map((w) => (
            <WorkerItem key={w.id} worker={w} />
          ))}
        </ul>
      )}
    </>
  );
}

function WorkerItem({ worker: w }: { worker: WorkerRow }) {
  const headingId = `worker-${w.id}`;
  return (
    <li
      class={`worker worker--${w.live ? 'live' : 'not-live'}`}
      aria-labelledby={headingId}
      data-testid="worker"
      data-worker-id={w.id}
      data-live={String(w.live)}
    >
      <div class="worker__header">
        <h3 class="worker__name" id={headingId} data-testid="worker-name">
          {w.name}
        </h3>
        <span
          class={`badge badge--${w.live ? 'online' : 'offline'}`}
          data-testid="worker-live"
          data-state={w.live ? 'live' : 'not-live'}
        >
          <span class="badge__dot" aria-hidden="true" />
          {w.live ? 'Live' : 'Not live'}
        </span>
      </div>
      <dl class="worker__meta">
        <div>
          <dt>Version</dt>
          <dd data-testid="worker-version">{w.version ?? '—'}</dd>
        </div>
        <div>
          <dt>Cameras</dt>
          <dd data-testid="worker-load" title={`${w.held} held, capacity ${w.capacity}`}>
            {w.held} / {w.capacity}
          </dd>
        </div>
        <div>
          <dt>Last heartbeat</dt>
          <dd>
            <time dateTime={w.heartbeatAt} title={w.heartbeatAt} data-testid="worker-heartbeat">
              {formatAgo(w.heartbeatAgeS)}
            </time>
          </dd>
        </div>
      </dl>
      {w.cameras.length === 0 ? (
        <p class="muted small worker__none" data-testid="worker-no-cameras">
          Holds no camera.
        </p>
      ) : (
        <table class="table worker-cameras" data-testid="worker-cameras">
          <caption class="visually-hidden">Cameras held by {w.name}</caption>
          <thead>
            <tr>
              <th scope="col">Camera</th>
              <th scope="col" class="num">
                Lease age
              </th>
              <th scope="col" class="num">
                Epoch
              </th>
            </tr>
          </thead>
          <tbody>
            {w.cameras.map((c) => (
              <tr
                key={c.id}
                data-testid="worker-camera"
                data-camera-id={c.id}
                data-handing-off={String(c.handingOff)}
              >
                <td>
                  <Link href={c.href} class="camera-link" data-testid="worker-camera-link">
                    {c.name}
                  </Link>
                  {c.handingOff && (
                    <span
                      class="pill pill--warn"
                      data-testid="worker-camera-handoff"
                      title="Asked to stop, flush and release this camera for another worker"
                    >
                      Handing off
                    </span>
                  )}
                </td>
                <td
                  class="num"
                  data-testid="worker-camera-lease-age"
                  title={`renewed ${formatAgo(c.renewedAgeS)}`}
                >
                  {formatDuration(c.leaseAgeS)}
                </td>
                <td class="num" data-testid="worker-camera-epoch">
                  {c.epoch}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}
