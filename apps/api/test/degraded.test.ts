import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '@its/contracts';
import type { Db } from '../src/db/db.js';
import { DatabaseUnavailableError } from '../src/errors.js';
import type { EventBus } from '../src/events/bus.js';
import { createMemoryBus } from '../src/events/bus.js';
import { storeFromDb, type Store } from '../src/store/create-store.js';
import { buildTestApp, openStore } from './fixtures.js';

// Readiness and 503s without a real outage: a Db whose every call fails the way a down server does.
const refused = () =>
  new DatabaseUnavailableError(
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  );
const downDb: Db = {
  kind: 'postgres',
  query: async () => Promise.reject(refused()),
  transaction: async () => Promise.reject(refused()),
  stats: () => ({ total: 0, idle: 0, waiting: 2 }),
  close: async () => {},
};

describe('degraded dependencies', () => {
  let healthy: Store;
  beforeAll(async () => {
    healthy = await openStore();
  });
  afterAll(async () => {
    await healthy.close();
  });

  it('database down: ready is 503 with one entry per failing check; reads and writes 503; liveness 200', async () => {
    const { app } = await buildTestApp(storeFromDb(downDb));
    const ready = await app.inject(API_ROUTES.ready);
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'fail',
      checks: [
        {
          name: 'database',
          status: 'fail',
          reason: 'database unavailable: connect ECONNREFUSED 127.0.0.1:1',
        },
        { name: 'migrations', status: 'fail' },
        { name: 'redis', status: 'skipped' },
      ],
    });
    expect((await app.inject(API_ROUTES.cameras)).statusCode).toBe(503);
    // Authentication comes first and needs the database.
    const write = await app.inject({
      method: 'POST',
      url: API_ROUTES.ingestStatus,
      headers: { 'x-api-key': 'its_000000000000_' + 'a'.repeat(32) },
      payload: { cameras: [{ cameraId: '0b7f8c1e-4c6a-4d8e-9a43-1f1c2b3d4e5f', state: 'online' }] },
    });
    expect(write.statusCode).toBe(503);
    expect(write.json().message).toBe('database unavailable; retry later');
    expect((await app.inject(API_ROUTES.health)).statusCode).toBe(200);
    expect((await app.inject(API_ROUTES.metrics)).body).toMatch(
      /its_db_pool_connections\{state="waiting",store="postgres"\} 2/,
    );
    await app.close();
  });

  it('schema behind this release: migrations check fails with the versions', async () => {
    const behind: Store = { ...healthy, schemaVersion: async () => ({ current: 1, required: 2 }) };
    const { app } = await buildTestApp(behind);
    const ready = await app.inject(API_ROUTES.ready);
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks[1]).toMatchObject({
      name: 'migrations',
      status: 'fail',
      reason: 'schema at version 1, this release needs 2',
    });
    await app.close();
  });

  it('schema ahead of this release (the next release migrated first): still ready — expand/contract', async () => {
    const ahead: Store = { ...healthy, schemaVersion: async () => ({ current: 3, required: 2 }) };
    const { app } = await buildTestApp(ahead);
    expect((await app.inject(API_ROUTES.ready)).statusCode).toBe(200);
    await app.close();
  });

  it('Redis configured but failing: the redis check fails with its reason', async () => {
    const failing: EventBus = {
      ...createMemoryBus(),
      kind: 'redis',
      ping: async () => Promise.reject(new Error('Connection is closed.')),
    };
    const { app } = await buildTestApp(healthy, { bus: failing });
    const ready = await app.inject(API_ROUTES.ready);
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks[2]).toMatchObject({
      name: 'redis',
      status: 'fail',
      reason: 'Connection is closed.',
    });
    await app.close();
  });
});
