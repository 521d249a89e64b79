import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type Camera } from '@its/contracts';
import { startApi, type RunningApi } from '../src/start-api.js';
import { aggregate, cameraInput, crossing } from './fixtures.js';
import { openSse } from './sse-client.js';

// A real listening API on a temporary on-disk embedded store, as the dashboard's page test uses it.
let dir: string;
let api: RunningApi;
let key: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'its-api-'));
  api = await startApi({
    dataDir: join(dir, 'data'),
    port: 0,
    logLevel: 'silent',
    env: { SSE_HEARTBEAT_MS: '200' },
  });
  key = (await api.createApiKey('stream-test')).key;
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown) =>
  fetch(api.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('live stream (SSE) and startApi', () => {
  it('streams committed events with LiveEvent type names, filtered by camera, with heartbeats and CORS', async () => {
    const a = (await (await post(API_ROUTES.cameras, cameraInput({ name: 'A' }))).json()) as Camera;
    const b = (await (await post(API_ROUTES.cameras, cameraInput({ name: 'B' }))).json()) as Camera;
    const all = await openSse(api.url + API_ROUTES.stream, { origin: 'http://localhost:3000' });
    const onlyB = await openSse(`${api.url}${API_ROUTES.stream}?cameraId=${b.id}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(all.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');

    expect((await post(API_ROUTES.ingestEvents, { events: [crossing(a.id, { class: 'bus' })] })).status).toBe(
      200,
    );
    expect(
      (await post(API_ROUTES.ingestAggregates, { aggregates: [aggregate(b.id, { volume: 33 })] })).status,
    ).toBe(200);
    expect(
      (
        await post(API_ROUTES.ingestStatus, {
          cameras: [{ cameraId: b.id, state: 'offline', reason: 'no frames' }],
        })
      ).status,
    ).toBe(200);

    const crossingMsg = await all.waitFor((m) => m.event === 'crossing');
    expect(JSON.parse(crossingMsg.data)).toMatchObject({ cameraId: a.id, class: 'bus' });
    const agg = await onlyB.waitFor((m) => m.event === 'aggregate');
    expect(JSON.parse(agg.data)).toMatchObject({ cameraId: b.id, volume: 33 });
    const status = await onlyB.waitFor((m) => m.event === 'camera-status');
    expect(JSON.parse(status.data)).toEqual({ cameraId: b.id, state: 'offline', reason: 'no frames' });
    // The filtered stream never saw camera A's crossing, though it arrived before B's events.
    expect(onlyB.messages.map((m) => m.event)).toEqual(['aggregate', 'camera-status']);

    expect(await all.waitForComment((c) => c.startsWith('heartbeat'))).toMatch(/^heartbeat \d{4}-/);
    all.close();
    onlyB.close();
  });

  it('keeps data on disk: a second startApi on the same directory sees it', async () => {
    const cam = (await (await post(API_ROUTES.cameras, cameraInput({ name: 'persisted' }))).json()) as Camera;
    await api.close();
    api = await startApi({ dataDir: join(dir, 'data'), logLevel: 'silent' });
    const res = await fetch(api.url + API_ROUTES.camera(cam.id));
    expect(res.status).toBe(200);
    expect(((await res.json()) as Camera).name).toBe('persisted');
    key = (await api.createApiKey('again')).key;
  });

  it('ends open streams when the app closes, so shutdown never waits on a listener', async () => {
    const client = await openSse(api.url + API_ROUTES.stream);
    await client.waitForComment((c) => c === 'connected');
    await api.close();
    await client.ended;
    expect(client.comments).toContain('server shutting down');
    api = await startApi({ dataDir: join(dir, 'data'), logLevel: 'silent' });
  });
});
