/**
 * npm run bench:fleet (apps/vision/scripts/bench-fleet.ts): many cameras over 1, 2 and 3 worker
 * processes on this machine, and how fast cameras move when a worker dies or leaves.
 *
 *   1. Served: N live cameras (a rendered street clip looped in real time, TARGET_FPS 5 each) leased to
 *      1, 2, then 3 real worker processes (the real bin, the real detector: DETECTOR_THREADS 2 for one
 *      worker, 1 each for more, so the threads never exceed the cores) against a real API (embedded
 *      store). After every camera runs and a warm-up, frames in / processed / dropped are read from
 *      each worker's /metrics over a window: frames processed per camera per second, the share of
 *      decoded frames dropped, and how the cameras spread.
 *   2. Failover (with the last worker count): `kill -9` of one worker → the first frame of each of its
 *      cameras processed elsewhere (its leases expire after LEASE_TTL_MS); then SIGTERM of another →
 *      the same (it gives its leases back as it stops).
 *
 * Flags: --cameras N (default 6)  --workers 1,2,3  --window S (default 30)  --warmup S (default 10)
 *        --ttl MS (the API's LEASE_TTL_MS, default 15000)  --json PATH
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_ROUTES, type Camera, type WorkerList } from '@its/contracts';
import { callApi, makeWalkingPersonVideo } from '../test/fixtures.js';

const require = createRequire(import.meta.url);
const BIN = fileURLToPath(new URL('../src/bin/vision-worker.ts', import.meta.url));

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const cameraCount = Number(flag('cameras', '6'));
const workerCounts = flag('workers', '1,2,3').split(',').map(Number);
const windowS = Number(flag('window', '30'));
const warmupS = Number(flag('warmup', '10'));
const ttlMs = Number(flag('ttl', '15000'));
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Proc {
  name: string;
  child: ChildProcess;
  metricsUrl: string;
  exited: Promise<void>;
}

async function main() {
  // The API is a dev-time dependency of this script only.
  const { startApi } = await import('@its/api');
  const dir = mkdtempSync(join(tmpdir(), 'its-bench-fleet-'));
  const api = await startApi({
    dataDir: join(dir, 'api'),
    env: { ALLOW_FILE_STREAM_URLS: 'true', LEASE_TTL_MS: String(ttlMs), RATE_LIMIT_ANONYMOUS_PER_MIN: '0' },
  });
  const procs = new Set<ChildProcess>();
  try {
    const admin = (await api.createApiKey('bench')).key;
    const workerKey = (await api.createApiKey('bench-worker', ['ingest', 'read'])).key;
    const clip = makeWalkingPersonVideo(dir, require.resolve('autocannon/test/j5.jpeg'), {
      name: 'street.mp4',
      size: '1280x720',
      seconds: 12,
      personHeight: 440,
      x: 'mod(t*260,1500)-240',
      y: '220',
    });
    const call = <T>(method: string, path: string, body?: unknown) =>
      callApi<T>(api.url, admin, method, path, body);
    const cameras: Camera[] = [];
    for (let i = 0; i < cameraCount; i++)
      cameras.push(
        await call<Camera>('POST', API_ROUTES.cameras, {
          name: `bench ${i}`,
          streamUrl: `file://${clip}`,
          location: { lat: 52.5, lon: 13.4 },
          lines: [{ id: 'mid', name: 'Mid', a: { x: 0.5, y: 0.05 }, b: { x: 0.5, y: 0.95 }, lane: 'east' }],
        }),
      );

    const startWorker = async (name: string, threads: number): Promise<Proc> => {
      const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', BIN], {
        env: {
          ...process.env,
          API_URL: api.url,
          API_KEY: workerKey,
          BUFFER_DIR: join(dir, 'buffers', name),
          METRICS_PORT: '0',
          WORKER_NAME: name,
          DETECTOR_THREADS: String(threads),
          MAX_CAMERAS: String(cameraCount),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      procs.add(child);
      const exited = new Promise<void>((r) => child.once('exit', () => (procs.delete(child), r())));
      const metricsUrl = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (c: Buffer) => {
          err = (err + c.toString()).slice(-20_000);
          const m = /metrics on (http:\/\/\S+\/metrics)/.exec(err);
          if (m) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`worker ${name} exited: ${err.slice(-2000)}`)));
      });
      return { name, child, metricsUrl, exited };
    };
    const metric = async (p: Proc) => (await fetch(p.metricsUrl)).text();
    const perCamera = (text: string, name: string) => {
      const out = new Map<string, number>();
      for (const m of text.matchAll(new RegExp(`${name}\\{camera="([^"]+)"\\} (\\d+)`, 'g')))
        out.set(m[1]!, Number(m[2]));
      return out;
    };
    const totals = async (ws: Proc[]) => {
      const sum = { in: 0, processed: 0, dropped: 0 };
      const processed = new Map<string, number>();
      for (const w of ws) {
        const text = await metric(w);
        for (const v of perCamera(text, 'its_vision_frames_in_total').values()) sum.in += v;
        for (const v of perCamera(text, 'its_vision_frames_dropped_total').values()) sum.dropped += v;
        for (const [k, v] of perCamera(text, 'its_vision_frames_processed_total')) {
          sum.processed += v;
          processed.set(k, (processed.get(k) ?? 0) + v);
        }
      }
      return { ...sum, perCamera: processed };
    };
    const waitFor = async (what: string, timeoutMs: number, check: () => Promise<boolean>) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await check().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    const holders = async () => {
      const list = await call<WorkerList>('GET', API_ROUTES.workers);
      return new Map(
        list.workers
          .filter((w) => w.live)
          .flatMap((w) => w.cameras.map((c) => [c.cameraId, w.name] as const)),
      );
    };

    const served: Record<string, unknown>[] = [];
    let last: Proc[] = [];
    for (const n of workerCounts) {
      const threads = n === 1 ? Math.min(2, cpus().length) : 1;
      const ws: Proc[] = [];
      for (let i = 0; i < n; i++) ws.push(await startWorker(`w${n}-${i}`, threads));
      const names = new Set(ws.map((w) => w.name));
      await waitFor(`${cameraCount} cameras leased to ${n} worker(s)`, 90_000, async () => {
        const h = await holders();
        return cameras.every((c) => names.has(h.get(c.id) ?? ''));
      });
      await sleep(warmupS * 1000);
      const spread = [...(await holders()).values()].reduce(
        (m, name) => m.set(name, (m.get(name) ?? 0) + 1),
        new Map<string, number>(),
      );
      const a = await totals(ws);
      const load0 = loadavg()[0]!;
      await sleep(windowS * 1000);
      const b = await totals(ws);
      const fpsPerCamera = cameras.map(
        (c) => ((b.perCamera.get(c.id) ?? 0) - (a.perCamera.get(c.id) ?? 0)) / windowS,
      );
      const row = {
        workers: n,
        detectorThreads: threads,
        cameras: cameraCount,
        spread: [...spread.values()].sort((x, y) => y - x).join('/'),
        fpsPerCameraMean: round(fpsPerCamera.reduce((s, v) => s + v, 0) / cameraCount, 2),
        fpsPerCameraMin: round(Math.min(...fpsPerCamera), 2),
        fpsTotal: round((b.processed - a.processed) / windowS, 1),
        droppedPct: round((100 * (b.dropped - a.dropped)) / Math.max(1, b.in - a.in), 1),
        loadAvg1m: round((load0 + loadavg()[0]!) / 2, 1),
      };
      served.push(row);
      console.log(JSON.stringify(row));
      if (n !== workerCounts.at(-1)) {
        for (const w of ws) w.child.kill('SIGTERM');
        await Promise.all(ws.map((w) => w.exited));
      } else last = ws;
    }

    // Failover and leave, measured from the survivors' metrics.
    const moveTime = async (victim: Proc, how: 'SIGKILL' | 'SIGTERM', survivors: Proc[]) => {
      const h = await holders();
      const its = cameras.filter((c) => h.get(c.id) === victim.name).map((c) => c.id);
      const before = new Map<string, number>();
      for (const s of survivors)
        for (const [k, v] of perCamera(await metric(s), 'its_vision_frames_processed_total'))
          before.set(k, v);
      const t0 = Date.now();
      victim.child.kill(how);
      const moved = new Map<string, number>();
      await waitFor(`${victim.name}'s cameras processed elsewhere`, ttlMs + 60_000, async () => {
        for (const s of survivors) {
          const now = perCamera(await metric(s), 'its_vision_frames_processed_total');
          for (const id of its)
            if (!moved.has(id) && (now.get(id) ?? 0) > (before.get(id) ?? 0)) moved.set(id, Date.now() - t0);
        }
        return moved.size === its.length;
      });
      await victim.exited;
      const times = [...moved.values()].sort((x, y) => x - y);
      return { cameras: its.length, firstMs: times[0] ?? null, lastMs: times.at(-1) ?? null };
    };
    let failover: Record<string, unknown> = {};
    if (last.length >= 3) {
      const kill = await moveTime(last[0]!, 'SIGKILL', last.slice(1));
      const leave = await moveTime(last[1]!, 'SIGTERM', last.slice(2));
      failover = { ttlMs, kill9: kill, sigterm: leave };
      console.log(JSON.stringify(failover));
    }
    for (const w of last) w.child.kill('SIGTERM');

    console.log('\nworkers | threads | spread | fps/camera mean (min) | fps total | dropped | load');
    for (const r of served as Array<Record<string, number | string>>)
      console.log(
        `${r.workers} | ${r.detectorThreads} | ${r.spread} | ${r.fpsPerCameraMean} (${r.fpsPerCameraMin}) | ${r.fpsTotal} | ${r.droppedPct} % | ${r.loadAvg1m}`,
      );
    const result = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      at: new Date().toISOString(),
      served,
      failover,
    };
    const json = JSON.stringify(result);
    console.log(`\nJSON ${json}`);
    const out = flag('json', '');
    if (out) writeFileSync(out, `${json}\n`);
  } finally {
    for (const c of procs) c.kill('SIGKILL');
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
