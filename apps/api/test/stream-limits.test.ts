/**
 * The live stream under the security probe's load, on real sockets: a client that never reads is
 * dropped alone (once, with one log line, unsubscribed at once) while a reading client gets every
 * event of batches far over 1 MiB; the cap on concurrent streams (503 + Retry-After); and the replay
 * of missed events to a client that reconnects with Last-Event-ID.
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY_SCOPES, API_ROUTES, type Camera, type CrossingEvent } from '@its/contracts';
import { issueApiKey } from '../src/auth/api-key-store.js';
import { buildApp } from '../src/app.js';
import { createMemoryBus } from '../src/events/bus.js';
import { createLogger } from '../src/logger.js';
import type { Store } from '../src/store/create-store.js';
import { cameraInput, crossing, openStore, testConfig } from './fixtures.js';
import { openSse, type SseClient } from './sse-client.js';

let store: Store;
const apps: FastifyInstance[] = [];
const sockets: Socket[] = [];
const sse: SseClient[] = [];

beforeAll(async () => {
  store = await openStore();
});
afterEach(() => {
  for (const c of sse.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await store.close();
});

/** A listening app on its own bus, with its warn/error log lines collected. */
async function startApp(env: Record<string, string> = {}) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const bus = createMemoryBus();
  const app = await buildApp({
    config: testConfig({ SSE_HEARTBEAT_MS: '60000', ...env }),
    store,
    bus,
    logger: createLogger('warn', sink),
  });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const key = (await issueApiKey(store.db, { name: 'stream', scopes: API_KEY_SCOPES })).key;
  const res = await app.inject({
    method: 'POST',
    url: API_ROUTES.cameras,
    headers: { authorization: `Bearer ${key}` },
    payload: cameraInput(),
  });
  const camera = res.json() as Camera;
  const metric = async (name: string) =>
    Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await app.inject(API_ROUTES.metrics)).body)?.[1]);
  const ingest = async (events: CrossingEvent[]) => {
    const r = await app.inject({
      method: 'POST',
      url: API_ROUTES.ingestEvents,
      headers: { authorization: `Bearer ${key}` },
      payload: { events },
    });
    expect(r.statusCode, r.body).toBe(200);
  };
  return { app, bus, url: `http://127.0.0.1:${port}`, port, camera, key, lines, metric, ingest };
}

/** A client that sends the request, reads the response head, and never reads again. */
async function slowClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  socket.on('error', () => {}); // the server resets it: that is the point
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`GET ${API_ROUTES.stream} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  return socket;
}

const bigCrossing = (cameraId: string) => crossing(cameraId, { trackId: 'x'.repeat(64), lineId: 'nb-1' });
const open = async (url: string, headers: Record<string, string> = {}) => {
  const c = await openSse(url, headers);
  sse.push(c);
  await c.waitForComment((x) => x === 'connected');
  return c;
};

describe('slow live-stream clients', () => {
  it('drops a client that never reads, once and alone, while a reading client gets every event of 5 000-event batches', async () => {
    const api = await startApp();
    await slowClient(api.port); // sends its request, reads the response head, never reads again
    const fast = await open(api.url + API_ROUTES.stream);
    expect(await api.metric('its_sse_clients')).toBe(2);

    // One real ingestion of 5 000 crossings: ≈ 1.9 MB of live events, the size that dropped everyone.
    const batch = Array.from({ length: 5000 }, () => bigCrossing(api.camera.id));
    expect(Buffer.byteLength(JSON.stringify(batch))).toBeGreaterThan(1024 * 1024);
    const t0 = performance.now();
    await api.ingest(batch);
    expect(performance.now() - t0).toBeLessThan(15_000);
    await fast.waitForCount(5000, 30_000);
    // Every event, each once (the repository returns a batch in its own order).
    expect(fast.messages.map((m) => JSON.parse(m.data).id).sort()).toEqual(batch.map((e) => e.id).sort());

    // More batches of 5 000 straight on the bus until the slow client is dropped (kernel buffers
    // and SSE_CLIENT_BUFFER_BYTES full); the reading client keeps up with every one.
    let sent = batch.length;
    for (let round = 0; round < 40 && (await api.metric('its_sse_clients_dropped_total')) === 0; round++) {
      for (let i = 0; i < 5000; i++)
        await api.bus.publish({ type: 'crossing', data: bigCrossing(api.camera.id) });
      sent += 5000;
      await fast.waitForCount(sent, 30_000);
    }
    expect(await api.metric('its_sse_clients_dropped_total')).toBe(1);
    const dropLines = api.lines.filter((l) => l.includes('dropping a live-stream client'));
    expect(dropLines).toHaveLength(1);
    expect(JSON.parse(dropLines[0]!)).toMatchObject({
      limit: 4 * 1024 * 1024,
      bufferedBytes: expect.any(Number),
    });
    expect(JSON.parse(dropLines[0]!).bufferedBytes).toBeLessThanOrEqual(4 * 1024 * 1024);

    // Unsubscribed at once: another 10 000 events publish no further log line about it.
    for (let i = 0; i < 10_000; i++)
      await api.bus.publish({ type: 'crossing', data: bigCrossing(api.camera.id) });
    sent += 10_000;
    await fast.waitForCount(sent, 30_000);
    expect(api.lines.filter((l) => l.includes('dropping a live-stream client'))).toHaveLength(1);
    // The server closed its side of the slow connection (its 'close' fired: one client is left).
    await expect.poll(() => api.metric('its_sse_clients'), { timeout: 10_000 }).toBe(1);

    // The fast client got everything, each event once, with increasing ids.
    expect(fast.messages).toHaveLength(sent);
    const seqs = fast.messages.map((m) => Number(m.id!.split('-')[1]));
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
  }, 180_000);
});

describe('the cap on concurrent streams', () => {
  it('answers the stream over SSE_MAX_CLIENTS with 503, Retry-After and a JSON error; a closed stream frees its slot', async () => {
    const api = await startApp({ SSE_MAX_CLIENTS: '2' });
    const a = await open(api.url + API_ROUTES.stream);
    await open(api.url + API_ROUTES.stream);
    const over = await fetch(api.url + API_ROUTES.stream, { headers: { accept: 'text/event-stream' } });
    expect(over.status).toBe(503);
    expect(over.headers.get('retry-after')).toBe('5');
    expect(over.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await over.json()).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      message:
        'live stream: 2 clients are connected, the most this instance serves (SSE_MAX_CLIENTS); retry later',
    });
    expect(await api.metric('its_sse_clients_refused_total')).toBe(1);
    // Raw sockets count too: a third one that never reads is refused the same way.
    const raw = connect({ host: '127.0.0.1', port: api.port });
    sockets.push(raw);
    const head = await new Promise<string>((resolve) => {
      raw.once('data', (d: Buffer) => resolve(d.toString()));
      raw.write(`GET ${API_ROUTES.stream} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    expect(head).toMatch(/^HTTP\/1\.1 503 /);

    a.close();
    await expect.poll(() => api.metric('its_sse_clients'), { timeout: 10_000 }).toBe(1);
    const again = await open(api.url + API_ROUTES.stream);
    expect(again.status).toBe(200);
  }, 60_000);
});

describe('replay after a reconnect (Last-Event-ID)', () => {
  it('gives a client that blinked exactly what it missed, filtered by camera, then live events', async () => {
    const api = await startApp({ SSE_REPLAY_MAX_EVENTS: '4' });
    const other = (
      await api.app.inject({
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: { authorization: `Bearer ${api.key}` },
        payload: cameraInput({ name: 'other' }),
      })
    ).json() as Camera;
    const cam = api.camera.id;
    const crossingIds = (c: SseClient) =>
      c.messages.filter((m) => m.event === 'crossing').map((m) => (JSON.parse(m.data) as CrossingEvent).id);

    const first = await open(api.url + API_ROUTES.stream);
    const c1 = crossing(cam);
    const c2 = crossing(cam);
    await api.ingest([c1]);
    await api.ingest([c2]);
    await first.waitForCount(2);
    expect(first.messages.map((m) => m.id)).toEqual([
      expect.stringMatching(/^[0-9a-f]+-\d+$/),
      expect.any(String),
    ]);
    const [id1, id2] = first.messages.map((m) => m.id!);
    first.close();

    // While it is away: two crossings of this camera, one of another.
    const c3 = crossing(cam);
    const c4 = crossing(cam);
    const y1 = crossing(other.id);
    await api.ingest([c3]);
    await api.ingest([c4]);
    await api.ingest([y1]);

    const back = await open(api.url + API_ROUTES.stream, { 'last-event-id': id2! });
    await back.waitForCount(3);
    expect(crossingIds(back)).toEqual([c3.id, c4.id, y1.id]);
    const c5 = crossing(cam);
    await api.ingest([c5]);
    await back.waitForCount(4);
    expect(crossingIds(back)).toEqual([c3.id, c4.id, y1.id, c5.id]);
    expect(back.comments.some((c) => c.startsWith('replay'))).toBe(false);

    // The camera filter applies to the replay.
    const filtered = await open(`${api.url}${API_ROUTES.stream}?cameraId=${cam}`, { 'last-event-id': id2! });
    await filtered.waitForCount(3);
    expect(crossingIds(filtered)).toEqual([c3.id, c4.id, c5.id]);

    // Away longer than the window (4 events): what is kept, and a comment that some are not.
    const late = await open(api.url + API_ROUTES.stream, { 'last-event-id': id1! });
    await late.waitForCount(4);
    expect(crossingIds(late)).toEqual([c3.id, c4.id, y1.id, c5.id]);
    expect(late.comments).toContainEqual(expect.stringMatching(/^replay incomplete: /));

    // An id of another instance or of a previous run: nothing replayed, and said so.
    const stranger = await open(api.url + API_ROUTES.stream, { 'last-event-id': 'deadbeef-3' });
    await stranger.waitForComment((c) => c.startsWith('replay unavailable: '));
    const c6 = crossing(cam);
    await api.ingest([c6]);
    await stranger.waitForCount(1);
    expect(crossingIds(stranger)).toEqual([c6.id]);
  }, 60_000);
});
