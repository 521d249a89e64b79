/**
 * `npm run demo -w @its/web`: a real API (embedded store in a temp dir) with a week of synthetic
 * traffic for a few cameras, live crossings every second, and the dashboard on :3000 — to look at the
 * product without a camera or a vision worker. Needs a built client (npm run build -w @its/web).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApi } from '@its/api';
import type { Camera, CameraInput, VehicleClass } from '@its/contracts';
import { buildWebApp } from '../src/app.js';
import { createRng, ingestAggregates, planTraffic, postJson } from '../test/support/traffic.js';

const WEB_PORT = Number(process.env.PORT ?? 3000);
const here = dirname(fileURLToPath(import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'its-demo-'));
const webOrigin = `http://127.0.0.1:${WEB_PORT}`;

const api = await startApi({
  dataDir,
  port: Number(process.env.API_PORT ?? 8000),
  env: { CORS_ORIGINS: `${webOrigin},http://localhost:${WEB_PORT}` },
});
const { key } = await api.createApiKey('demo');

const line = (id: string, lane: string, y: number, x0: number, x1: number) => ({
  id,
  name: `${lane} stop line`,
  lane,
  a: { x: x0, y },
  b: { x: x1, y },
  direction: 'forward' as const,
});
const cameras: (CameraInput & {
  lanes: string[];
  scale: number;
  status: ['online' | 'offline' | 'starting', string | null];
})[] = [
  {
    name: 'Main St & 5th Ave — northbound',
    streamUrl: 'rtsp://operator:secret@10.0.4.21/stream1',
    location: { lat: 47.60621, lon: -122.33207 },
    lines: [
      line('nb-1', 'NB-1', 0.62, 0.12, 0.38),
      line('nb-2', 'NB-2', 0.64, 0.4, 0.63),
      line('nb-3', 'NB-3', 0.66, 0.65, 0.9),
    ],
    zones: [
      {
        id: 'box',
        name: 'Intersection box',
        polygon: [
          { x: 0.1, y: 0.3 },
          { x: 0.9, y: 0.3 },
          { x: 0.95, y: 0.55 },
          { x: 0.05, y: 0.55 },
        ],
      },
    ],
    lanes: ['NB-1', 'NB-2', 'NB-3'],
    scale: 1,
    status: ['online', null],
  },
  {
    name: 'Harbor Bridge — eastbound',
    streamUrl: 'rtsp://10.0.4.35/h264',
    location: { lat: 47.59101, lon: -122.34122 },
    lines: [line('eb-1', 'EB-1', 0.5, 0.1, 0.48), line('eb-2', 'EB-2', 0.5, 0.52, 0.9)],
    lanes: ['EB-1', 'EB-2'],
    scale: 1.6,
    status: ['online', null],
  },
  {
    name: 'Airport Rd at Terminal 2',
    streamUrl: 'rtsp://10.0.7.11/main',
    location: { lat: 47.44898, lon: -122.30931 },
    lines: [line('in', 'Inbound', 0.7, 0.2, 0.8)],
    lanes: ['Inbound'],
    scale: 0.6,
    status: ['offline', 'RTSP timeout: no frames for 45 s'],
  },
  {
    name: 'Depot gate (camera being commissioned)',
    streamUrl: 'rtsp://10.0.9.2/live',
    location: { lat: 47.5702, lon: -122.3861 },
    lines: [],
    lanes: [],
    scale: 0,
    status: ['starting', 'connecting to stream'],
  },
];

const now = Date.now();
const created: { cam: Camera; lanes: string[]; scale: number }[] = [];
for (const [i, c] of cameras.entries()) {
  const { lanes, scale, status, ...input } = c;
  const cam = (await postJson(api.url, '/api/v1/cameras', input, key)) as Camera;
  created.push({ cam, lanes, scale });
  if (lanes.length > 0) {
    const minute = Math.floor(now / 60_000) * 60_000;
    // Fine detail where the short ranges look, coarser further back: the bucketed sums are the same.
    const plans = [
      { fromMs: now - 7 * 86_400_000, toMs: now - 86_400_000, stepMs: 900_000 },
      { fromMs: now - 86_400_000, toMs: now - 2 * 3_600_000, stepMs: 300_000 },
      {
        fromMs: now - 2 * 3_600_000,
        toMs: minute - (status[0] === 'offline' ? 40 * 60_000 : 0),
        stepMs: 60_000,
      },
    ];
    for (const p of plans)
      await ingestAggregates(
        api.url,
        key,
        planTraffic({ cameraId: cam.id, lanes, scale, seed: i + 1, ...p }),
      );
  }
  await postJson(
    api.url,
    '/api/v1/ingest/status',
    { cameras: [{ cameraId: cam.id, state: status[0], reason: status[1] }] },
    key,
  );
  console.log(`camera ${cam.name} (${cam.id})`);
}

const web = await buildWebApp({
  config: { apiPublicUrl: api.url.replace('127.0.0.1', 'localhost'), version: 'demo', logLevel: 'warn' },
  publicDir: join(here, '../dist/public'),
});
await web.listen({ host: '127.0.0.1', port: WEB_PORT });
console.log(`\nAPI       ${api.url}\nDashboard ${webOrigin}\n(Ctrl-C to stop)`);

// Live traffic: a crossing every ~0.7 s on the online cameras, the minute's aggregate when it closes.
const rng = createRng(42);
const live = created.filter((c) => c.scale > 0).slice(0, 2);
const classes: VehicleClass[] = ['car', 'car', 'car', 'car', 'truck', 'bus', 'motorcycle'];
const crossingTimer = setInterval(() => {
  const c = live[Math.floor(rng() * live.length)]!;
  const lane = c.lanes[Math.floor(rng() * c.lanes.length)]!;
  const ev = {
    id: randomUUID(),
    cameraId: c.cam.id,
    lineId: c.cam.lines.find((l) => l.lane === lane)!.id,
    lane,
    class: classes[Math.floor(rng() * classes.length)]!,
    direction: 'forward',
    ts: new Date().toISOString(),
    speedKmh: Math.round((38 + rng() * 25) * 10) / 10,
    trackId: null,
  };
  postJson(api.url, '/api/v1/ingest/events', { events: [ev] }, key).catch((e: unknown) => console.error(e));
}, 700);
const minuteTimer = setInterval(() => {
  const m = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  for (const [i, c] of live.entries()) {
    void ingestAggregates(
      api.url,
      key,
      planTraffic({
        cameraId: c.cam.id,
        lanes: c.lanes,
        scale: c.scale,
        seed: Date.now() + i,
        fromMs: m,
        toMs: m + 60_000,
      }),
    );
    void postJson(
      api.url,
      '/api/v1/ingest/status',
      { cameras: [{ cameraId: c.cam.id, state: 'online' }] },
      key,
    );
  }
}, 60_000);

const stop = async () => {
  clearInterval(crossingTimer);
  clearInterval(minuteTimer);
  await web.close();
  await api.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
