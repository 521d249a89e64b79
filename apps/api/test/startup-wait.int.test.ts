import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '@its/contracts';
import { startPostgres, type PostgresServer } from '@its/testkit';
import { loadConfig } from '../src/config.js';
import { DatabaseUnavailableError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { createRuntime, migrateWhenReachable, type Runtime } from '../src/runtime.js';

let pg: PostgresServer | undefined;
let runtime: Runtime | undefined;
afterAll(async () => {
  await runtime?.close();
  await pg?.destroy();
});

describe('start-up while the database is not reachable yet', () => {
  it('waits for PostgreSQL (started after the API) instead of failing', async () => {
    pg = await startPostgres();
    await pg.stop();
    const config = loadConfig({
      DATABASE_URL: pg.url,
      LOG_LEVEL: 'silent',
      DB_STARTUP_WAIT_MS: '60000',
      DATA_DIR: 'memory://',
    });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const starting = createRuntime(config, { logger: createLogger('warn', sink) });
    await pg.start();
    runtime = await starting;
    expect(lines.join('')).toContain('database not reachable yet; waiting');
    const ready = await runtime.app.inject(API_ROUTES.ready);
    expect(ready.statusCode).toBe(200);
  }, 90_000);

  it('gives up after DB_STARTUP_WAIT_MS, and never retries a non-connection error', async () => {
    const warnings: string[] = [];
    const log = { warn: (_o: object, m: string) => void warnings.push(m) };
    const down = {
      migrate: async () => Promise.reject(new DatabaseUnavailableError(new Error('ECONNREFUSED'))),
    };
    await expect(migrateWhenReachable(down, 600, log)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    let calls = 0;
    const broken = {
      migrate: async () => {
        calls++;
        throw new Error('syntax error at or near "CREAT"');
      },
    };
    await expect(migrateWhenReachable(broken, 10_000, log)).rejects.toThrow('syntax error');
    expect(calls).toBe(1);
  });
});
