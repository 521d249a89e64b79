import { request } from 'node:http';
import { connect } from 'node:net';
import type { EnvironmentConfig } from '../config/environment-schema.js';
import type { CheckName } from '../plan/types.js';

/**
 * The five health checks. Each returns a result with its timing and the reason it failed; nothing
 * throws. HTTP checks go to a replica's own published port (127.0.0.1), never through the router,
 * so a version is judged before it receives any traffic.
 */

export interface CheckResult {
  check: CheckName;
  target: string;
  ok: boolean;
  durationMs: number;
  attempts: number;
  reason: string;
  /** Numbers worth keeping (p95, status…). */
  detail?: Record<string, number | string>;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface CheckDeps {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  httpGet: (url: string, timeoutMs: number) => Promise<HttpAnswer>;
  tcpConnect: (host: string, port: number, timeoutMs: number) => Promise<void>;
  /** The engine's view of a container: its health status and last health output. */
  containerHealth: (
    name: string,
  ) => Promise<{ running: boolean; health: string | undefined; output: string }>;
}

export interface ReplicaEndpoint {
  name: string;
  baseUrl: string;
}

export function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    socket.on('connect', () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function checkContainer(
  deps: CheckDeps,
  replica: ReplicaEndpoint,
  timeoutMs: number,
): Promise<CheckResult> {
  const start = deps.now();
  let attempts = 0;
  for (;;) {
    attempts++;
    const h = await deps.containerHealth(replica.name);
    const base = { check: 'container' as const, target: replica.name, attempts };
    if (!h.running)
      return {
        ...base,
        ok: false,
        durationMs: deps.now() - start,
        reason: `container is not running${h.output ? `: ${h.output}` : ''}`,
      };
    if (h.health === undefined)
      return {
        ...base,
        ok: true,
        durationMs: deps.now() - start,
        reason: 'running (the image defines no HEALTHCHECK)',
      };
    if (h.health === 'healthy')
      return { ...base, ok: true, durationMs: deps.now() - start, reason: 'healthy' };
    if (h.health === 'unhealthy')
      return {
        ...base,
        ok: false,
        durationMs: deps.now() - start,
        reason: `engine reports unhealthy: ${h.output.trim() || 'no output'}`,
      };
    if (deps.now() - start >= timeoutMs)
      return {
        ...base,
        ok: false,
        durationMs: deps.now() - start,
        reason: `still "${h.health}" after ${timeoutMs} ms${h.output ? `: ${h.output.trim()}` : ''}`,
      };
    await deps.sleep(250);
  }
}

export async function checkApi(
  deps: CheckDeps,
  replica: ReplicaEndpoint,
  cfg: EnvironmentConfig['healthChecks']['api'],
): Promise<CheckResult> {
  const start = deps.now();
  let reason = '';
  for (let attempt = 1; attempt <= cfg.retries; attempt++) {
    try {
      const res = await deps.httpGet(`${replica.baseUrl}${cfg.path}`, cfg.timeoutMs);
      if (res.status !== cfg.expectStatus)
        reason = `GET ${cfg.path} answered ${res.status}, expected ${cfg.expectStatus}: ${res.body.slice(0, 200)}`;
      else if (cfg.expectBody !== undefined && !res.body.includes(cfg.expectBody))
        reason = `GET ${cfg.path} body lacks ${JSON.stringify(cfg.expectBody)}: ${res.body.slice(0, 200)}`;
      else
        return {
          check: 'api',
          target: replica.name,
          ok: true,
          durationMs: deps.now() - start,
          attempts: attempt,
          reason: `GET ${cfg.path} → ${res.status}`,
          detail: { status: res.status },
        };
    } catch (e) {
      reason = `GET ${cfg.path}: ${message(e)}`;
    }
    if (attempt < cfg.retries) await deps.sleep(cfg.intervalMs);
  }
  return {
    check: 'api',
    target: replica.name,
    ok: false,
    durationMs: deps.now() - start,
    attempts: cfg.retries,
    reason: `${reason} (after ${cfg.retries} attempts)`,
  };
}

/** The database entry of a readiness body: the contract's array form, or an object keyed by name. */
export function readDatabaseEntry(
  body: string,
  key: string,
): { status: string; reason?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const checks = (parsed as { checks?: unknown }).checks;
  if (Array.isArray(checks)) {
    const entry = checks.find((c: { name?: string }) => c?.name === key) as
      { status?: string; reason?: string | null } | undefined;
    return entry
      ? { status: String(entry.status), ...(entry.reason ? { reason: entry.reason } : {}) }
      : undefined;
  }
  if (checks && typeof checks === 'object' && key in checks) {
    const entry = (checks as Record<string, { status?: string; error?: string }>)[key];
    return { status: String(entry?.status), ...(entry?.error ? { reason: entry.error } : {}) };
  }
  return undefined;
}

export async function checkDatabase(
  deps: CheckDeps,
  replica: ReplicaEndpoint,
  cfg: EnvironmentConfig['healthChecks']['database'],
  timeoutMs: number,
): Promise<CheckResult> {
  const start = deps.now();
  const fail = (reason: string): CheckResult => ({
    check: 'database',
    target: replica.name,
    ok: false,
    durationMs: deps.now() - start,
    attempts: 1,
    reason,
  });
  let res: HttpAnswer;
  try {
    res = await deps.httpGet(`${replica.baseUrl}${cfg.readinessPath}`, timeoutMs);
  } catch (e) {
    return fail(`GET ${cfg.readinessPath}: ${message(e)}`);
  }
  const entry = readDatabaseEntry(res.body, cfg.key);
  // The check was asked for (healthChecks.database.enabled), so a body without the entry fails it
  // rather than passing unjudged; a service with no database says so in its file instead.
  if (!entry)
    return fail(
      `GET ${cfg.readinessPath} → ${res.status} has no "${cfg.key}" check: ${res.body.slice(0, 200)} ` +
        `(if this service has no database, turn the check off: healthChecks.database.enabled: false)`,
    );
  if (!['ok', 'up'].includes(entry.status))
    return fail(
      `GET ${cfg.readinessPath} → ${res.status}: ${cfg.key} is "${entry.status}"${entry.reason ? ` (${entry.reason})` : ''}`,
    );
  if (cfg.tcp) {
    const [host, port] = cfg.tcp.split(':') as [string, string];
    try {
      await deps.tcpConnect(host, Number(port), timeoutMs);
    } catch (e) {
      return fail(`direct probe of ${cfg.tcp}: ${message(e)}`);
    }
  }
  return {
    check: 'database',
    target: replica.name,
    ok: true,
    durationMs: deps.now() - start,
    attempts: 1,
    reason: `${cfg.key} ${entry.status}${cfg.tcp ? `; ${cfg.tcp} accepts connections` : ''}`,
  };
}

export async function checkExternal(
  deps: CheckDeps,
  services: EnvironmentConfig['healthChecks']['external'],
  timeoutMs: number,
): Promise<CheckResult> {
  const start = deps.now();
  const failures: string[] = [];
  for (const svc of services) {
    try {
      if ('url' in svc) {
        const res = await deps.httpGet(svc.url, timeoutMs);
        if (res.status >= 500) failures.push(`${svc.name}: ${svc.url} answered ${res.status}`);
      } else {
        const [host, port] = svc.tcp.split(':') as [string, string];
        await deps.tcpConnect(host, Number(port), timeoutMs);
      }
    } catch (e) {
      failures.push(`${svc.name}: ${message(e)}`);
    }
  }
  const ok = failures.length === 0;
  return {
    check: 'external',
    target: services.length === 0 ? '(none configured)' : services.map((s) => s.name).join(', '),
    ok,
    durationMs: deps.now() - start,
    attempts: 1,
    reason: ok ? `${services.length} service(s) reachable` : failures.join('; '),
  };
}

/** p-th percentile by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function checkPerformance(
  deps: CheckDeps,
  replica: ReplicaEndpoint,
  cfg: EnvironmentConfig['healthChecks']['performance'],
  timeoutMs: number,
): Promise<CheckResult> {
  const start = deps.now();
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < cfg.probes; i++) {
    const t0 = deps.now();
    try {
      const res = await deps.httpGet(`${replica.baseUrl}${cfg.path}`, timeoutMs);
      if (res.status >= 400) errors++;
    } catch {
      errors++;
    }
    times.push(deps.now() - t0);
  }
  const p95 = percentile(times, 95);
  const ok = errors === 0 && p95 <= cfg.p95Ms;
  const reason =
    errors > 0
      ? `${errors} of ${cfg.probes} probes of ${cfg.path} failed`
      : `p95 of ${cfg.probes} probes of ${cfg.path} = ${p95} ms ${ok ? '≤' : '>'} SLO ${cfg.p95Ms} ms`;
  return {
    check: 'performance',
    target: replica.name,
    ok,
    durationMs: deps.now() - start,
    attempts: cfg.probes,
    reason,
    detail: { p95Ms: p95, sloMs: cfg.p95Ms, errors },
  };
}

/**
 * Runs the named checks on the replicas: container and API on each, the version-wide checks
 * (database, external, performance) once, on the first. Stops at the first failure.
 */
export async function runChecks(
  deps: CheckDeps,
  replicas: ReplicaEndpoint[],
  checks: CheckName[],
  cfg: EnvironmentConfig['healthChecks'],
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const push = (r: CheckResult) => {
    results.push(r);
    return r.ok;
  };
  for (const replica of replicas) {
    if (
      checks.includes('container') &&
      cfg.container.enabled &&
      !push(await checkContainer(deps, replica, cfg.container.timeoutMs))
    )
      return results;
    if (checks.includes('api') && !push(await checkApi(deps, replica, cfg.api))) return results;
  }
  const first = replicas[0];
  if (!first) return results;
  if (
    checks.includes('database') &&
    cfg.database.enabled &&
    !push(await checkDatabase(deps, first, cfg.database, cfg.api.timeoutMs))
  )
    return results;
  if (
    checks.includes('external') &&
    cfg.external.length > 0 &&
    !push(await checkExternal(deps, cfg.external, cfg.api.timeoutMs))
  )
    return results;
  if (checks.includes('performance') && cfg.performance.enabled)
    push(await checkPerformance(deps, first, cfg.performance, cfg.api.timeoutMs));
  return results;
}
