import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startPostgres, startRedis } from './index.js';

const run = promisify(execFile);

describe('testkit starts real servers', () => {
  it('starts, stops and restarts PostgreSQL, keeping its data', async () => {
    const pg = await startPostgres();
    try {
      const psql = (sql: string) => run('psql', [pg.url, '-Atc', sql]);
      await psql('create table t (x int); insert into t values (42)');
      await pg.stop();
      await expect(psql('select 1')).rejects.toThrow();
      await pg.start();
      expect((await psql('select x from t')).stdout.trim()).toBe('42');
    } finally {
      await pg.destroy();
    }
  });
  it('starts Redis on loopback', async () => {
    const r = await startRedis();
    try {
      expect((await run('redis-cli', ['-u', r.url, 'ping'])).stdout.trim()).toBe('PONG');
    } finally {
      await r.stop();
    }
  });
});
