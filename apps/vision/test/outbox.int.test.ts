import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrossingEvent, IntervalAggregate } from '@its/contracts';
import { createApiClient } from '../src/api-client.js';
import { openDiskBuffer } from '../src/disk-buffer.js';
import { ApiRejectedError, ApiUnavailableError } from '../src/errors.js';
import { createOutbox, splitBatch } from '../src/outbox.js';
import { closedPort, makeTempDir } from './fixtures.js';
import { startStubApi, type StubApi } from './stub-api.js';

const KEY = 'test-key';
const CAM = '6f1c7f5e-8a9b-4c3d-9e2f-1a2b3c4d5e6f';
const FAST = { initialMs: 20, maxMs: 100, factor: 2 };

const event = (i: number): CrossingEvent => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  cameraId: CAM,
  lineId: 'l1',
  lane: 'north',
  class: 'car',
  direction: 'forward',
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  speedKmh: null,
  trackId: String(i),
});
const aggregate = (minute: number, volume: number): IntervalAggregate => ({
  cameraId: CAM,
  intervalStart: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  lane: 'north',
  class: 'car',
  volume,
  occupancyPct: 1,
  meanSpeedKmh: null,
  p85SpeedKmh: null,
});

let dir: string;
let api: StubApi;
beforeEach(async () => {
  dir = makeTempDir('its-outbox-');
  api = await startStubApi(KEY);
});
afterEach(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('disk buffer', () => {
  it('keeps batches in order across a reopen, and ignores interrupted writes', async () => {
    const b1 = await openDiskBuffer({ dir, maxBytes: 1e6 });
    await b1.append('events', { n: 1 });
    await b1.append('aggregates', { n: 2 });
    writeFileSync(join(dir, '000000000003.events.json.tmp'), '{"half');
    const b2 = await openDiskBuffer({ dir, maxBytes: 1e6 });
    expect(b2.depth).toBe(2);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(await b2.oldest()).toEqual({ seq: 1, kind: 'events', body: { n: 1 } });
    await b2.remove(1);
    await b2.append('events', { n: 3 });
    expect(await b2.oldest()).toEqual({ seq: 2, kind: 'aggregates', body: { n: 2 } });
    await b2.remove(2);
    expect((await b2.oldest())?.seq).toBe(3);
  });

  it('stays within its byte bound by dropping the oldest, and counts the drops', async () => {
    const b = await openDiskBuffer({ dir, maxBytes: 300 });
    for (let i = 0; i < 20; i++) await b.append('events', { i, pad: 'x'.repeat(40) });
    expect(b.bytes).toBeLessThanOrEqual(300);
    expect(b.dropped).toBe(20 - b.depth);
    expect(b.depth).toBeGreaterThan(0);
    expect(((await b.oldest())?.body as { i: number }).i).toBe(20 - b.depth);
  });

  it('skips a batch file that cannot be parsed', async () => {
    const b1 = await openDiskBuffer({ dir, maxBytes: 1e6 });
    await b1.append('events', { n: 1 });
    await b1.append('events', { n: 2 });
    writeFileSync(join(dir, '000000000001.events.json'), '{"trunc');
    const b2 = await openDiskBuffer({ dir, maxBytes: 1e6 });
    expect((await b2.oldest())?.body).toEqual({ n: 2 });
    expect(b2.dropped).toBe(1);
  });
});

describe('outbox against an API that goes down and comes back', () => {
  it('buffers while the API is down and delivers every batch once, in order, when it returns', async () => {
    const buffer = await openDiskBuffer({ dir, maxBytes: 1e6 });
    const outbox = createOutbox({
      buffer,
      client: createApiClient({ baseUrl: api.url, apiKey: KEY, timeoutMs: 1000 }),
      backoff: FAST,
    });
    await outbox.enqueue({ kind: 'events', body: { events: [event(1)] } });
    expect(await outbox.drain(2000)).toBe(true);
    await api.down();
    await outbox.enqueue({ kind: 'events', body: { events: [event(2), event(3)] } });
    await outbox.enqueue({ kind: 'aggregates', body: { aggregates: [aggregate(0, 3)] } });
    await outbox.enqueue({ kind: 'events', body: { events: [event(4)] } });
    expect(await outbox.drain(300)).toBe(false);
    expect(buffer.depth).toBe(3);
    expect(outbox.stats.failures).toBeGreaterThan(0);
    await api.up();
    expect(await outbox.drain(5000)).toBe(true);
    outbox.stop();
    expect(api.received.map((r) => r.path.split('/').pop())).toEqual([
      'events',
      'events',
      'aggregates',
      'events',
    ]);
    const ids = api.received.flatMap((r) =>
      ((r.body as { events?: CrossingEvent[] }).events ?? []).map((e) => e.trackId),
    );
    expect(ids).toEqual(['1', '2', '3', '4']);
    expect(api.events.size).toBe(4);
    expect(buffer.depth).toBe(0);
  });

  it('survives a worker restart: a new outbox on the same directory delivers what the old one buffered', async () => {
    await api.down();
    const b1 = await openDiskBuffer({ dir, maxBytes: 1e6 });
    const o1 = createOutbox({
      buffer: b1,
      client: createApiClient({ baseUrl: api.url, apiKey: KEY, timeoutMs: 500 }),
      backoff: FAST,
    });
    await o1.enqueue({ kind: 'aggregates', body: { aggregates: [aggregate(0, 5), aggregate(1, 7)] } });
    o1.stop();
    await api.up();
    const b2 = await openDiskBuffer({ dir, maxBytes: 1e6 });
    const o2 = createOutbox({
      buffer: b2,
      client: createApiClient({ baseUrl: api.url, apiKey: KEY }),
      backoff: FAST,
    });
    expect(await o2.drain(5000)).toBe(true);
    o2.stop();
    expect([...api.aggregates.values()].map((a) => a.volume)).toEqual([5, 7]);
  });

  it('retries 5xx and 429 and delivers the same batch afterwards; a retry after a lost reply counts nothing twice', async () => {
    const buffer = await openDiskBuffer({ dir, maxBytes: 1e6 });
    const outbox = createOutbox({
      buffer,
      client: createApiClient({ baseUrl: api.url, apiKey: KEY }),
      backoff: FAST,
    });
    api.failNext(2, 503);
    await outbox.enqueue({ kind: 'events', body: { events: [event(1), event(2)] } });
    expect(await outbox.drain(3000)).toBe(true);
    api.failNext(1, 429);
    // The same events again (as after a reply lost in transit): the API's id dedupe absorbs them.
    await outbox.enqueue({ kind: 'events', body: { events: [event(1), event(2)] } });
    expect(await outbox.drain(3000)).toBe(true);
    outbox.stop();
    expect(outbox.stats.failures).toBe(3);
    expect(api.events.size).toBe(2);
  });

  it('drops a batch the API rejects for good (400) and delivers the next one', async () => {
    const buffer = await openDiskBuffer({ dir, maxBytes: 1e6 });
    const logs: string[] = [];
    const outbox = createOutbox({
      buffer,
      client: createApiClient({ baseUrl: api.url, apiKey: KEY }),
      backoff: FAST,
      log: (_l, m) => logs.push(m),
    });
    api.failNext(1, 400);
    await outbox.enqueue({ kind: 'events', body: { events: [event(1)] } });
    await outbox.enqueue({ kind: 'events', body: { events: [event(2)] } });
    expect(await outbox.drain(3000)).toBe(true);
    outbox.stop();
    expect(outbox.stats.rejected).toBe(1);
    expect([...api.events.keys()]).toEqual([event(2).id]);
    expect(logs.join('\n')).toMatch(/dropping events batch 1: .*HTTP 400 injected failure/);
  });

  it('bounds what waits on disk during a long outage (oldest dropped, newest delivered)', async () => {
    await api.down();
    const buffer = await openDiskBuffer({ dir, maxBytes: 2000 });
    const outbox = createOutbox({
      buffer,
      client: createApiClient({ baseUrl: api.url, apiKey: KEY, timeoutMs: 500 }),
      backoff: FAST,
    });
    for (let i = 1; i <= 40; i++) await outbox.enqueue({ kind: 'events', body: { events: [event(i)] } });
    expect(buffer.bytes).toBeLessThanOrEqual(2000);
    expect(buffer.dropped).toBeGreaterThan(0);
    await api.up();
    expect(await outbox.drain(5000)).toBe(true);
    outbox.stop();
    const delivered = api.received.flatMap((r) =>
      (r.body as { events: CrossingEvent[] }).events.map((e) => Number(e.trackId)),
    );
    expect(delivered.at(-1)).toBe(40);
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b));
    // Delivery is at least once: a reply lost to a client timeout on a loaded machine means the batch
    // is sent again (the API's event-id idempotency absorbs it). Every event is delivered or counted
    // as dropped, none both, none lost.
    const unique = new Set(delivered);
    expect(unique.size + buffer.dropped).toBe(40);
  });

  it('splits batches above the contract’s 5000-item cap', () => {
    const events = Array.from({ length: 12_001 }, (_, i) => event(i));
    expect(
      splitBatch({ kind: 'events', body: { events } }).map((b) =>
        b.kind === 'events' ? b.body.events.length : 0,
      ),
    ).toEqual([5000, 5000, 2001]);
  });
});

describe('API client', () => {
  it('pages through the camera list', async () => {
    api.cameras = [];
    expect(await createApiClient({ baseUrl: `${api.url}/`, apiKey: KEY }).listCameras()).toEqual([]);
  });
  it.each([
    [401, ApiUnavailableError],
    [503, ApiUnavailableError],
    [422, ApiRejectedError],
  ])('classifies HTTP %i', async (status, type) => {
    api.failNext(1, status);
    await expect(
      createApiClient({ baseUrl: api.url, apiKey: KEY }).postEvents({ events: [event(1)] }),
    ).rejects.toBeInstanceOf(type);
  });
  it('treats a refused connection as unavailable, naming the cause', async () => {
    const port = await closedPort();
    await expect(
      createApiClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY }).postStatus({
        cameras: [{ cameraId: CAM, state: 'online' }],
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
  it('sends the key as a bearer token (a wrong key is refused)', async () => {
    await expect(createApiClient({ baseUrl: api.url, apiKey: 'wrong' }).listCameras()).rejects.toThrow(
      /HTTP 401 bad key/,
    );
  });
});
