/** System health: the API's deep readiness checks, refreshed while the page is open. */
import { describeError } from '../lib/api-client.js';
import { formatClock, titleCase } from '../lib/format.js';
import { useAsync, useDocumentTitle, useInterval, useLiveState, useServices } from '../lib/hooks.js';
import { Card, ErrorState, Icon, Loading } from '../components/ui.js';
import { LiveIndicator } from './camera-page.js';

const REFRESH_MS = 15_000;

export function SystemPage() {
  useDocumentTitle('System');
  const { api, config } = useServices();
  const liveState = useLiveState();
  const ready = useAsync(
    async (signal) => ({ report: await api.getReadiness({ signal }), at: Date.now() }),
    [],
  );
  useInterval(ready.reload, REFRESH_MS);

  const report = ready.data?.report;
  const failing = report?.checks.filter((c) => c.status === 'fail') ?? [];
  return (
    <div class="page" data-testid="system-page">
      <header class="page-header">
        <div>
          <h1 class="page-title">System</h1>
          <p class="page-subtitle">Readiness of the API and the services it depends on</p>
        </div>
        <button
          type="button"
          class="button button--secondary"
          onClick={ready.reload}
          data-testid="system-refresh"
        >
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
