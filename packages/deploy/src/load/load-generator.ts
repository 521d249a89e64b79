import { Agent, request } from 'node:http';

/**
 * A bounded, fixed-rate HTTP load generator (node:http, keep-alive): requests are sent on a schedule,
 * not when the previous one answers, so a stall shows up as failures and latency instead of a slower
 * rate (no coordinated omission). Used by the deployment tests and `npm run bench`.
 */

export interface LoadReport {
  sent: number;
  ok: number;
  failed: number;
  /** First few failures, for the message of a failing test. */
  failures: string[];
  /** Which version answered, by count (the x-version header or the body's version). */
  versions: Record<string, number>;
  latenciesMs: number[];
  durationMs: number;
  /** Time of each request (ms since start) with its version, to find when traffic moved. */
  timeline: Array<{ atMs: number; version: string; ok: boolean }>;
}

export interface LoadOptions {
  url: string;
  rps: number;
  /** Hard bound: the generator stops by itself after this long. */
  maxDurationMs: number;
  timeoutMs?: number;
  maxSockets?: number;
}

export interface RunningLoad {
  stop: () => Promise<LoadReport>;
  report: () => LoadReport;
}

export function startLoad(options: LoadOptions): RunningLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const report: LoadReport = {
    sent: 0,
    ok: 0,
    failed: 0,
    failures: [],
    versions: {},
    latenciesMs: [],
    durationMs: 0,
    timeline: [],
  };
  const start = performance.now();
  const interval = 1000 / options.rps;
  let inFlight = 0;
  let stopped = false;
  let resolveDrained: (() => void) | undefined;
  const done = () => {
    inFlight--;
    if (stopped && inFlight === 0) resolveDrained?.();
  };
  const fail = (why: string, at: number) => {
    report.failed++;
    if (report.failures.length < 10) report.failures.push(`${Math.round(at)} ms: ${why}`);
    report.timeline.push({ atMs: at, version: '', ok: false });
  };
  const fire = () => {
    const t0 = performance.now();
    const at = t0 - start;
    report.sent++;
    inFlight++;
    // A request ends exactly once, whichever of response end, response error or request error comes first.
    let ended = false;
    const end = (record: () => void) => {
      if (ended) return;
      ended = true;
      record();
      done();
    };
    const req = request(options.url, { agent, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        end(() => {
          const version =
            String(res.headers['x-version'] ?? '') ||
            (/"version":"([^"]+)"/.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? '?');
          if (res.statusCode === 200) {
            report.ok++;
            report.versions[version] = (report.versions[version] ?? 0) + 1;
            report.latenciesMs.push(performance.now() - t0);
            report.timeline.push({ atMs: at, version, ok: true });
          } else fail(`status ${res.statusCode} from ${version}`, at);
        }),
      );
      res.on('error', (e) => end(() => fail(e.message, at)));
    });
    req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => end(() => fail(e.message, at)));
    req.end();
  };
  let next = 0;
  const tick = () => {
    if (stopped) return;
    const elapsed = performance.now() - start;
    if (elapsed >= options.maxDurationMs) {
      void stop();
      return;
    }
    while (next <= elapsed) {
      fire();
      next += interval;
    }
    timer = setTimeout(tick, Math.max(1, Math.min(interval, next - elapsed)));
  };
  let timer = setTimeout(tick, 0);
  let stopping: Promise<LoadReport> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      stopped = true;
      clearTimeout(timer);
      report.durationMs = performance.now() - start;
      if (inFlight > 0) await new Promise<void>((r) => (resolveDrained = r));
      agent.destroy();
      return report;
    })();
    return stopping;
  };
  return { stop, report: () => report };
}

export function percentileOf(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
