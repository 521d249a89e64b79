import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_ROUTES } from '@its/contracts';
import type { FastifyInstance } from 'fastify';
import type { EventBus } from '../src/events/bus.js';
import type { Store } from '../src/store/create-store.js';
import { buildTestApp, crossing, openStore } from './fixtures.js';

let store: Store;
let app: FastifyInstance;
let bus: EventBus;

beforeAll(async () => {
  store = await openStore();
  ({ app, bus } = await buildTestApp(store));
  await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  await store.close();
});

it('drops a live-stream client that stops reading instead of buffering without bound', async () => {
  const { port } = app.server.address() as { port: number };
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {}); // the server resets the connection; that is the point
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(`GET ${API_ROUTES.stream} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  // Read the response head, then stop reading for good.
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  const openClients = async () =>
    Number(/^its_sse_clients (\d+)$/m.exec((await app.inject(API_ROUTES.metrics)).body)?.[1]);
  expect(await openClients()).toBe(1);

  const cameraId = randomUUID();
  const padding = 'x'.repeat(60);
  // Up to ≈ 40 MB of events: far more than the kernel's socket buffers plus the 1 MiB allowance.
  let published = 0;
  while (published < 150_000) {
    for (let i = 0; i < 1000; i++)
      await bus.publish({ type: 'crossing', data: crossing(cameraId, { trackId: padding }) });
    published += 1000;
    await new Promise((r) => setImmediate(r));
    if ((await openClients()) === 0) break;
  }
  expect(await openClients()).toBe(0);
  expect(published).toBeLessThan(150_000);
  socket.destroy();
});
