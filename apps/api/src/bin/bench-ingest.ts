/**
 * `npm run bench:ingest -- [--store embedded|postgres] [--root DIR] [--batches 60] [--rows 500]
 *   [--clients 4] [--sessions 0|1|2] [--json]`
 *
 * Ingestion throughput of interval aggregates through the real API: starts the API in this process from
 * the sources under `--root` (default: this checkout; a `git worktree` of an older commit gives a
 * baseline run side by side), creates 50 cameras, and posts `--batches` batches of `--rows` aggregates
 * (camera × minute × lane × class, each minute new) from `--clients` concurrent clients, as workers do.
 * `--sessions 0` sends no session (the nil session, what a worker before sessions sent); 1 stamps one
 * session per camera; 2 sends every minute from two sessions (a hand-off inside each minute), so the
 * store combines two contributions per minute. Prints rows/s and batch latency p50/p95.
 * `--store postgres` starts a private PostgreSQL (needs the Debian package; PG_BIN_DIR).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'embedded' },
    root: { type: 'string', default: resolve(import.meta.dirname, '../../../..') },
    batches: { type: 'string', default: '60' },
    rows: { type: 'string', default: '500' },
    clients: { type: 'string', default: '4' },
    sessions: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const BATCHES = Number(args.batches);
const ROWS = Number(args.rows);
const CLIENTS = Number(args.clients);
const SESSIONS = Number(args.sessions);
if (
  !['embedded', 'postgres'].includes(args.store!) ||
  !(BATCHES > 0) ||
  !(ROWS > 0 && ROWS <= 5000) ||
  !(CLIENTS > 0) ||
  ![0, 1, 2].includes(SESSIONS)
) {
  console.error(
    'usage: bench-ingest [--store embedded|postgres] [--root DIR] [--batches N>0] [--rows 1..5000] [--clients N>0] [--sessions 0|1|2] [--json]',
  );
  process.exit(2);
}

interface RunningApi {
  url: string;
  createApiKey(name: string, scopes?: readonly string[]): Promise<{ key: string }>;
  close(): Promise<void>;
}

const CAMERAS = 50;
const LANES = ['nb-1', 'nb-2'];
const CLASSES = ['car', 'truck'];
const T0 = Date.UTC(2025, 0, 1);

async function main() {
  const { startApi } = (await import(pathToFileURL(join(args.root!, 'apps/api/src/start-api.ts')).href)) as {
    startApi: (o: Record<string, unknown>) => Promise<RunningApi>;
  };
  const dir = mkdtempSync(join(tmpdir(), 'its-bench-ingest-'));
  let pg: { url: string; destroy(): Promise<void> } | undefined;
  if (args.store === 'postgres') {
    const { startPostgres } = await import('@its/testkit');
    pg = await startPostgres();
  }
  const api = await startApi({
    dataDir: join(dir, 'api'),
    databaseUrl: pg?.url,
    env: { RATE_LIMIT_ANONYMOUS_PER_MIN: '0', RATE_LIMIT_PER_KEY_PER_MIN: '0' },
  });
  try {
    const { key } = await api.createApiKey('bench');
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const cameras: string[] = [];
    for (let i = 0; i < CAMERAS; i++) {
      const res = await fetch(`${api.url}/api/v1/cameras`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: `c${i}`,
          streamUrl: 'rtsp://127.0.0.1/x',
          location: { lat: 0, lon: 0 },
        }),
      });
      cameras.push(((await res.json()) as { id: string }).id);
    }
    const sessionsOf = new Map(cameras.map((c) => [c, [randomUUID(), randomUUID()]]));
    // Every row of every batch is a new (minute, camera, lane, class[, session]) key.
    let next = 0;
    const makeBatch = () => {
      const aggregates: Record<string, unknown>[] = [];
      while (aggregates.length < ROWS) {
        const k = next++;
        const perMinute = CAMERAS * LANES.length * CLASSES.length;
        const minute = Math.floor(k / perMinute);
        const r = k % perMinute;
        const camera = cameras[Math.floor(r / (LANES.length * CLASSES.length))]!;
        const lane = LANES[Math.floor(r / CLASSES.length) % LANES.length]!;
        const cls = CLASSES[r % CLASSES.length]!;
        const base = {
          cameraId: camera,
          intervalStart: new Date(T0 + minute * 60_000).toISOString(),
          lane,
          class: cls,
          volume: 7,
          occupancyPct: 12.5,
          meanSpeedKmh: 42,
          p85SpeedKmh: 51,
        };
        if (SESSIONS === 0) aggregates.push(base);
        else {
          const [s1, s2] = sessionsOf.get(camera)!;
          aggregates.push({ ...base, session: s1, observedMs: SESSIONS === 2 ? 30_000 : 60_000 });
          if (SESSIONS === 2 && aggregates.length < ROWS)
            aggregates.push({ ...base, session: s2, observedMs: 30_000, volume: 3 });
        }
      }
      return JSON.stringify({ aggregates });
    };
    const bodies = Array.from({ length: BATCHES + 4 }, makeBatch);
    const post = async (body: string) => {
      const t = performance.now();
      const res = await fetch(`${api.url}/api/v1/ingest/aggregates`, { method: 'POST', headers, body });
      if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - t;
    };
    // Warm-up: 4 batches, not timed.
    for (const b of bodies.slice(0, 4)) await post(b);
    const queue = bodies.slice(4);
    const times: number[] = [];
    const load0 = loadavg()[0]!;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let b = queue.shift(); b; b = queue.shift()) times.push(await post(b));
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    times.sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
    const result = {
      root: args.root,
      store: args.store,
      sessions: SESSIONS,
      batches: BATCHES,
      rowsPerBatch: ROWS,
      clients: CLIENTS,
      rowsPerSecond: Math.round((BATCHES * ROWS) / seconds),
      batchP50Ms: Math.round(pct(50)),
      batchP95Ms: Math.round(pct(95)),
      loadAvg1m: Math.round(((load0 + loadavg()[0]!) / 2) * 10) / 10,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    };
    if (args.json) console.log(JSON.stringify(result));
    else
      console.log(
        `${args.store} sessions=${SESSIONS}: ${result.rowsPerSecond} rows/s (batch of ${ROWS}: p50 ${result.batchP50Ms} ms, p95 ${result.batchP95Ms} ms; load ${result.loadAvg1m}) [${args.root}]`,
      );
  } finally {
    await api.close();
    await pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
