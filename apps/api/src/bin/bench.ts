/**
 * `npm run -w @its/api bench -- [--store embedded|postgres] [--rows 100000] [--duration 10]
 *   [--connections 10] [--json]`
 *
 * Seeds interval aggregates, starts the API (src/server.ts) as its own process on a free loopback
 * port, and runs autocannon for a bounded time against /health and two aggregate queries. Prints rps
 * and p50/p95/p99 latency (computed from every response time, since autocannon reports no p95).
 * Then two scenarios of the security review: a stampede (bursts of identical dashboard requests right
 * after an ingestion invalidated the cache: how many reach the store, and their latency) and /health
 * while heavy aggregate queries run (the probe's anonymous no-cache flood, and the largest answer
 * AGGREGATE_MAX_ROWS allows, uncached by a key holder). Rate limits are off in the server it starts:
 * it measures throughput, which a limiter would cut to 429s.
 * `--store postgres` uses DATABASE_URL, or starts a private PostgreSQL (needs the Debian package).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { API_ROUTES, type IntervalAggregate, type VehicleClass } from '@its/contracts';
import { issueApiKey } from '../auth/api-key-store.js';
import { loadConfig } from '../config.js';
import { createStore } from '../store/create-store.js';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'embedded' },
    rows: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const DURATION_S = Number(args.duration);
const CONNECTIONS = Number(args.connections);
if (
  !['embedded', 'postgres'].includes(args.store!) ||
  !(ROWS > 0) ||
  !(DURATION_S > 0 && DURATION_S <= 120) ||
  !(CONNECTIONS > 0)
) {
  console.error(
    'usage: bench [--store embedded|postgres] [--rows N>0] [--duration 1..120] [--connections N>0] [--json]',
  );
  process.exit(2);
}
const log = (msg: string) => (args.json ? process.stderr : process.stdout).write(`${msg}\n`);

const CAMERAS = 10;
const LANES = ['nb-1', 'nb-2'];
const CLASSES: VehicleClass[] = ['car', 'bus', 'truck', 'motorcycle', 'bicycle'];
const START = Date.UTC(2025, 0, 1);

/** Percentile of sorted samples (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function seed(databaseUrl: string | undefined, dataDir: string) {
  const store = await createStore({ databaseUrl, dataDir });
  await store.migrate();
  await store.db.query('TRUNCATE cameras CASCADE');
  const cameraIds: string[] = [];
  for (let c = 0; c < CAMERAS; c++) {
    const id = randomUUID();
    cameraIds.push(id);
    await store.repo.createCamera(
      id,
      {
        name: `bench ${c}`,
        streamUrl: 'rtsp://127.0.0.1/bench',
        location: { lat: 52, lon: 13 },
        lines: [],
        zones: [],
        calibration: null,
        enabled: true,
      },
      new Date(),
    );
  }
  const series = CAMERAS * LANES.length * CLASSES.length;
  const minutes = Math.ceil(ROWS / series);
  const t0 = performance.now();
  let batch: IntervalAggregate[] = [];
  let first: IntervalAggregate | undefined;
  let rows = 0;
  for (let m = 0; m < minutes && rows < ROWS; m++) {
    for (const cameraId of cameraIds) {
      for (const lane of LANES) {
        for (const cls of CLASSES) {
          if (rows >= ROWS) break;
          const volume = (m * 7 + cls.length * 3 + lane.length) % 25;
          batch.push({
            cameraId,
            intervalStart: new Date(START + m * 60_000).toISOString(),
            lane,
            class: cls,
            volume,
            occupancyPct: (volume * 4) % 100,
            meanSpeedKmh: volume === 0 ? null : 30 + (m % 40),
            p85SpeedKmh: volume === 0 ? null : 38 + (m % 40),
          });
          first ??= batch.at(-1);
          rows++;
          if (batch.length === 5000) {
            await store.repo.upsertAggregates(batch, new Date());
            batch = [];
          }
        }
      }
    }
  }
  if (batch.length) await store.repo.upsertAggregates(batch, new Date());
  const count = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_aggregates');
  await store.db.query('ANALYZE');
  // Uncached reads need a key (an anonymous Cache-Control: no-cache is served from the cache), and the
  // stampede ingests: the vision worker's scopes.
  const { key } = await issueApiKey(store.db, { name: 'bench', scopes: ['ingest', 'read'] });
  await store.close();
  return {
    cameraIds,
    rows: count.rows[0]!.n,
    minutes,
    seedS: (performance.now() - t0) / 1000,
    key,
    resend: first!,
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function startServer(env: Record<string, string>) {
  const apiDir = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/server.ts'], {
    cwd: apiDir,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    // With --json, stdout is the report: the server's log lines go to stderr.
    stdio: ['ignore', args.json ? 2 : 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${env.PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(base + API_ROUTES.ready)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('server not ready after 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

interface Row {
  target: string;
  requests: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

async function load(name: string, url: string, uncachedAs: string | undefined): Promise<Row> {
  const samples: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    // Uncached targets bypass the read cache (as a key holder may) so the database's work is measured.
    const headers: Record<string, string> = uncachedAs
      ? { 'cache-control': 'no-cache', authorization: `Bearer ${uncachedAs}` }
      : {};
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: DURATION_S, headers },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
  samples.sort((a, b) => a - b);
  return {
    target: name,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50Ms: round2(percentile(samples, 50)),
    p95Ms: round2(percentile(samples, 95)),
    p99Ms: round2(percentile(samples, 99)),
    maxMs: round2(samples.at(-1) ?? NaN),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

interface StampedeRow {
  target: string;
  bursts: number;
  burstSize: number;
  /** Requests that ran the query (X-Cache: miss) per burst: the queries that reached the store. */
  storeQueriesPerBurst: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  non2xx: number;
}

/**
 * `bursts` times: an ingestion (a re-sent minute: the data stays the same, but like every write it
 * invalidates the read cache), then `size` identical anonymous requests at once — dashboards polling
 * the same query. Counts the requests that ran the query, from X-Cache.
 */
async function stampede(
  name: string,
  base: string,
  url: string,
  seeded: { key: string; resend: IntervalAggregate },
  bursts = 20,
  size = 50,
): Promise<StampedeRow> {
  const samples: number[] = [];
  let misses = 0;
  let non2xx = 0;
  for (let b = 0; b < bursts; b++) {
    const ingest = await fetch(base + API_ROUTES.ingestAggregates, {
      method: 'POST',
      headers: { authorization: `Bearer ${seeded.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ aggregates: [seeded.resend] }),
    });
    if (!ingest.ok) throw new Error(`stampede: ingestion answered ${ingest.status}`);
    await ingest.arrayBuffer();
    const answers = await Promise.all(
      Array.from({ length: size }, async () => {
        const t0 = performance.now();
        const res = await fetch(url);
        await res.arrayBuffer();
        return { ms: performance.now() - t0, cache: res.headers.get('x-cache'), status: res.status };
      }),
    );
    for (const a of answers) {
      samples.push(a.ms);
      if (a.cache === 'miss') misses++;
      if (a.status >= 300) non2xx++;
    }
  }
  samples.sort((a, b) => a - b);
  return {
    target: name,
    bursts,
    burstSize: size,
    storeQueriesPerBurst: round2(misses / bursts),
    p50Ms: round2(percentile(samples, 50)),
    p95Ms: round2(percentile(samples, 95)),
    maxMs: round2(samples.at(-1) ?? NaN),
    non2xx,
  };
}

interface HealthUnderLoadRow {
  target: string;
  healthRequests: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The heavy requests answered while /health was measured, by status code. */
  load: Record<string, number>;
}

/** /health from one autocannon connection while `clients` loops send the heavy request. */
async function healthUnderLoad(
  name: string,
  base: string,
  clients: number,
  url: string,
  headers: Record<string, string>,
): Promise<HealthUnderLoadRow> {
  const deadline = Date.now() + DURATION_S * 1000;
  const codes: Record<string, number> = {};
  const loops = Array.from({ length: clients }, async () => {
    while (Date.now() < deadline) {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      codes[res.status] = (codes[res.status] ?? 0) + 1;
    }
  });
  const health = await new Promise<{ samples: number[]; total: number }>((resolve, reject) => {
    const samples: number[] = [];
    const instance = autocannon(
      { url: base + API_ROUTES.health, connections: 1, duration: DURATION_S },
      (err, res) => (err ? reject(err) : resolve({ samples, total: res.requests.total })),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
  await Promise.all(loops);
  const samples = health.samples.sort((a, b) => a - b);
  return {
    target: name,
    healthRequests: health.total,
    p50Ms: round2(percentile(samples, 50)),
    p95Ms: round2(percentile(samples, 95)),
    p99Ms: round2(percentile(samples, 99)),
    maxMs: round2(samples.at(-1) ?? NaN),
    load: codes,
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'its-bench-'));
  let pg: { url: string; destroy(): Promise<void> } | undefined;
  let databaseUrl: string | undefined;
  if (args.store === 'postgres') {
    databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      const { startPostgres } = await import('@its/testkit');
      pg = await startPostgres();
      databaseUrl = pg.url;
    }
  }
  try {
    log(`seeding ${ROWS} interval aggregates (${args.store} store)…`);
    const seeded = await seed(databaseUrl, join(dir, 'data'));
    log(`seeded ${seeded.rows} rows in ${seeded.seedS.toFixed(1)} s`);
    const port = await freePort();
    const server = await startServer({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      RATE_LIMIT_ANONYMOUS_PER_MIN: '0',
      RATE_LIMIT_PER_KEY_PER_MIN: '0',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    const from = new Date(START).toISOString();
    const to = new Date(START + seeded.minutes * 60_000).toISOString();
    const allByClass = `${server.base}${API_ROUTES.aggregates}?from=${from}&to=${to}&bucket=1h&groupBy=class`;
    const targets: Array<[string, string, string | undefined]> = [
      ['GET /health', server.base + API_ROUTES.health, undefined],
      [
        `aggregates: 1 camera, 15m buckets (${Math.round(seeded.rows / CAMERAS)} rows)`,
        `${server.base}${API_ROUTES.aggregates}?cameraId=${seeded.cameraIds[0]}&from=${from}&to=${to}&bucket=15m`,
        seeded.key,
      ],
      [`aggregates: all cameras, 1h by class (${seeded.rows} rows)`, allByClass, seeded.key],
      [`same, from the read cache (${seeded.rows} rows)`, allByClass, undefined],
    ];
    const series = CAMERAS * LANES.length * CLASSES.length;
    // The largest answer AGGREGATE_MAX_ROWS allows the server (20 000 by default): minute buckets of
    // every series.
    const maxRows = loadConfig({ AGGREGATE_MAX_ROWS: process.env.AGGREGATE_MAX_ROWS }).AGGREGATE_MAX_ROWS;
    const largestMinutes = Math.min(seeded.minutes, Math.floor(maxRows / series));
    const rows: Row[] = [];
    const stampedes: StampedeRow[] = [];
    const healthRows: HealthUnderLoadRow[] = [];
    try {
      for (const [name, url, uncachedAs] of targets) {
        log(`load: ${name} — ${CONNECTIONS} connections for ${DURATION_S} s`);
        rows.push(await load(name, url, uncachedAs));
      }
      log('stampede: 20 bursts of 50 identical requests, each right after an ingestion');
      stampedes.push(
        await stampede('all cameras, 1h by class, after an ingestion', server.base, allByClass, seeded),
      );
      log(`/health while 20 anonymous clients send the probe's query with no-cache, ${DURATION_S} s`);
      healthRows.push(
        await healthUnderLoad(
          'probe: 20 anonymous clients, no-cache, 1m × camera,lane,class over 6 days',
          server.base,
          20,
          `${server.base}${API_ROUTES.aggregates}?from=${from}&to=${new Date(START + 6 * 86_400_000).toISOString()}&bucket=1m&groupBy=camera,lane,class`,
          { 'cache-control': 'no-cache' },
        ),
      );
      log(`/health while 1 key holder asks the largest allowed answer uncached, ${DURATION_S} s`);
      healthRows.push(
        await healthUnderLoad(
          `1 key holder, no-cache, 1m × camera,lane,class over ${largestMinutes} min (${largestMinutes * series} rows)`,
          server.base,
          1,
          `${server.base}${API_ROUTES.aggregates}?from=${from}&to=${new Date(START + largestMinutes * 60_000).toISOString()}&bucket=1m&groupBy=camera,lane,class`,
          { 'cache-control': 'no-cache', authorization: `Bearer ${seeded.key}` },
        ),
      );
    } finally {
      await server.stop();
    }
    const cpu = cpus();
    const report = {
      store: args.store,
      rows: seeded.rows,
      // Ingestion time for all the rows in batches of 5000, rollup maintenance included: what the
      // rollup costs at write time, against what it saves the reads below.
      seedS: Math.round(seeded.seedS * 10) / 10,
      durationS: DURATION_S,
      connections: CONNECTIONS,
      machine: { cpus: cpu.length, model: cpu[0]?.model ?? 'unknown', node: process.version },
      objectiveMs: 200,
      results: rows,
      stampede: stampedes,
      healthUnderLoad: healthRows,
    };
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(
        `\n${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; ${args.store} store, ${seeded.rows} intervals`,
      );
      console.table(rows.map((r) => ({ ...r, 'p95 < 200 ms': r.p95Ms < 200 ? 'yes' : 'NO' })));
      console.table(stampedes);
      console.table(healthRows.map((r) => ({ ...r, load: JSON.stringify(r.load) })));
    }
  } finally {
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
