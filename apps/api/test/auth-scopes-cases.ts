/**
 * Migration 4 on a store holding keys made before scopes existed: run by auth-scopes.test.ts on PGlite
 * and auth-scopes.int.test.ts on real PostgreSQL, so both engines take the same ALTER and default.
 */
import { expect } from 'vitest';
import { API_ROUTES } from '@its/contracts';
import { authenticateApiKey } from '../src/auth/api-key-store.js';
import { createApiKey } from '../src/auth/api-keys.js';
import { MIGRATIONS, runMigrations } from '../src/db/migrations.js';
import { createStore } from '../src/store/create-store.js';
import { ADMIN_TOKEN, buildTestApp, cameraInput, crossing } from './fixtures.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');

/** `databaseUrl`: an empty PostgreSQL database; without it, a fresh in-memory PGlite store. */
export async function assertLegacyKeysMigrate(databaseUrl?: string): Promise<void> {
  const store = await createStore({ databaseUrl, dataDir: 'memory://' });
  try {
    // The schema as release 2 left it, with a key inserted the way that release inserts them.
    expect(
      await runMigrations(
        store.db,
        MIGRATIONS.filter((m) => m.version <= 2),
      ),
    ).toEqual([1, 2]);
    const old = await createApiKey(store.repo, 'old-worker', NOW);
    const revoked = await createApiKey(store.repo, 'old-revoked', NOW);
    await store.repo.revokeApiKey(revoked.id);

    const applied = await store.migrate();
    expect(applied).toContain(4);
    expect(await authenticateApiKey(store.db, old.key)).toEqual({
      id: old.id,
      name: 'old-worker',
      prefix: old.prefix,
      scopes: ['ingest', 'read'],
    });
    expect(await authenticateApiKey(store.db, revoked.key)).toBeUndefined();
    // Release N-1 keeps inserting without naming scopes during a rolling deploy: the default applies.
    const during = await createApiKey(store.repo, 'n-1', NOW);
    expect((await authenticateApiKey(store.db, during.key))?.scopes).toEqual(['ingest', 'read']);

    const { app } = await buildTestApp(store, { clock: () => NOW });
    try {
      const bearer = { authorization: `Bearer ${old.key}` };
      const denied = await app.inject({
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: bearer,
        payload: cameraInput(),
      });
      expect(denied.statusCode).toBe(403);
      expect(denied.json().message).toContain('lacks the "cameras:write" scope (it has: ingest, read)');
      const created = await app.inject({
        method: 'POST',
        url: API_ROUTES.cameras,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: cameraInput(),
      });
      expect(created.statusCode).toBe(201);
      const ingest = await app.inject({
        method: 'POST',
        url: API_ROUTES.ingestEvents,
        headers: bearer,
        payload: { events: [crossing(created.json().id)] },
      });
      expect(ingest.statusCode).toBe(200);
      const check = await app.inject({ url: `${API_ROUTES.authCheck}?scopes=ingest,read`, headers: bearer });
      expect(check.statusCode).toBe(204);
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}
