/**
 * `npm run -w @its/api bench -- [--store embedded|postgres] [--rows 100000] [--duration 10]
 *   [--connections 10] [--json]`
 *
 * Seeds interval aggregates, starts the API (src/server.ts) as its own process on a free loopback
 * port, and runs autocannon for a bounded time against /health and two aggregate queries. Prints rps
 * and p50/p95/p99 latency (computed from every response time, since autocannon reports no p95).
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
  await store.close();
  return { cameraIds, rows: count.rows[0]!.n, minutes, seedS: (performance.now() - t0) / 1000 };
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
    stdio: ['ignore', 'inherit', 'inherit'],
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

async function load(name: string, url: string, cached: boolean): Promise<Row> {
  const samples: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    // Uncached targets bypass the read cache so the database's work is what gets measured.
    const headers: Record<string, string> = cached ? {} : { 'cache-control': 'no-cache' };
    const instance = autocannon(
      { url, connections: CONNECTIONS, duration: DURATION_S, headers },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
  samples.sort((a, b) => a - b);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    target: name,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    p50Ms: r2(percentile(samples, 50)),
    p95Ms: r2(percentile(samples, 95)),
    p99Ms: r2(percentile(samples, 99)),
    maxMs: r2(samples.at(-1) ?? NaN),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
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
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });
    const from = new Date(START).toISOString();
    const to = new Date(START + seeded.minutes * 60_000).toISOString();
    const targets: Array<[string, string, boolean]> = [
      ['GET /health', server.base + API_ROUTES.health, false],
      [
        `aggregates: 1 camera, 15m buckets (${Math.round(seeded.rows / CAMERAS)} rows)`,
        `${server.base}${API_ROUTES.aggregates}?cameraId=${seeded.cameraIds[0]}&from=${from}&to=${to}&bucket=15m`,
        false,
      ],
      [
        `aggregates: all cameras, 1h by class (${seeded.rows} rows)`,
        `${server.base}${API_ROUTES.aggregates}?from=${from}&to=${to}&bucket=1h&groupBy=class`,
        false,
      ],
      [
        `same, from the read cache (${seeded.rows} rows)`,
        `${server.base}${API_ROUTES.aggregates}?from=${from}&to=${to}&bucket=1h&groupBy=class`,
        true,
      ],
    ];
    const rows: Row[] = [];
    try {
      for (const [name, url, cached] of targets) {
        log(`load: ${name} — ${CONNECTIONS} connections for ${DURATION_S} s`);
        rows.push(await load(name, url, cached));
      }
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
    };
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(
        `\n${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; ${args.store} store, ${seeded.rows} intervals`,
      );
      console.table(rows.map((r) => ({ ...r, 'p95 < 200 ms': r.p95Ms < 200 ? 'yes' : 'NO' })));
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
