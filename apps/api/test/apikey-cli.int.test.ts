import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiKeyCreated } from '@its/contracts';
import { authenticateApiKey } from '../src/auth/api-key-store.js';
import { verifyApiKey } from '../src/auth/api-keys.js';
import { createStore } from '../src/store/create-store.js';

const run = promisify(execFile);
const apiDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'its-apikey-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as `npm run apikey:create` does. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/bin/apikey-create.ts', ...args], {
    cwd: apiDir,
    env: { ...process.env, DATA_DIR: join(dir, 'data'), ...env },
  });

describe('apikey:create CLI', () => {
  it('creates a key with the scopes asked for (default ingest, read) and prints it once', async () => {
    const { stdout } = await cli(['--name', 'worker', '--json']);
    const created = JSON.parse(stdout) as ApiKeyCreated;
    expect(created).toMatchObject({
      name: 'worker',
      key: expect.stringMatching(/^its_[0-9a-f]{12}_/),
      scopes: ['ingest', 'read'],
    });
    const { stdout: opsOut } = await cli(['--name', 'ops', '--scopes', 'cameras:write', '--json']);
    const ops = JSON.parse(opsOut) as ApiKeyCreated;
    expect(ops.scopes).toEqual(['cameras:write']);
    const human = await cli(['--name', 'second']);
    expect(human.stdout).toMatch(/API key "second" created .*\n.*not shown again:\nits_[0-9a-f]{12}_\S+\n$/);

    const store = await createStore({ dataDir: join(dir, 'data') });
    try {
      expect(await verifyApiKey(store.repo, created.key)).toBe(created.id);
      expect((await authenticateApiKey(store.db, ops.key))?.scopes).toEqual(['cameras:write']);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('exits 2 with usage when --name is missing or a scope is unknown, 1 naming a bad variable', async () => {
    const missing = await cli([]).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--name: required') });
    const unknown = await cli(['--name', 'x', '--scopes', 'ingest,admin']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        '--scopes: unknown scope "admin"; valid scopes: ingest, read, cameras:write',
      ),
    });
    const badEnv = await cli(['--name', 'x'], { DATABASE_URL: 'mysql://nope' }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(badEnv).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('DATABASE_URL: use a postgres://'),
    });
  }, 60_000);
});
