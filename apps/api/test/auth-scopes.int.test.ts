import { startPostgres, type PostgresServer } from '@its/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { assertLegacyKeysMigrate } from './auth-scopes-cases.js';

let pg: PostgresServer;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.destroy();
});

describe('migration 4 on PostgreSQL', () => {
  it('keys made before scopes keep ingest and read, and lose camera writes', async () => {
    await assertLegacyKeysMigrate(pg.url);
  }, 60_000);
});
