/**
 * The embedded store's directory lock with real processes: `src/server.ts` and the `apikey:create` CLI
 * as children on one DATA_DIR. A second opener exits 2 naming the holder; after a kill -9 of the holder
 * a new API takes the stale lock over (with a log line) and serves what was acknowledged before the
 * kill; a store PGlite cannot open is a message saying how to recover, not a WebAssembly stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiKeyCreated, type Camera, type Totals } from '@its/contracts';
import { freePort, waitForPort } from '@its/testkit';
import { LOCK_FILE } from '../src/db/data-dir-lock.js';
import { ADMIN_TOKEN, aggregate, cameraInput } from './fixtures.js';

const apiDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Child {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** Runs a TypeScript entry point of the API as its own process, the way `npm start`/`npm run` do. */
function runEntry(entry: string, args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry, ...args], {
    cwd: apiDir,
    env: { ...process.env, LOG_LEVEL: 'info', ADMIN_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

const startServer = (dataDir: string, port: number) =>
  runEntry('src/server.ts', [], { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });

/** The child's exit code, or a failure naming what it printed if it is still running after `ms`. */
async function exitCodeWithin(c: Child, ms: number): Promise<number | null> {
  const timeout = new Promise<'running'>((r) => setTimeout(() => r('running'), ms));
  const result = await Promise.race([c.exited, timeout]);
  if (result === 'running') {
    c.child.kill('SIGKILL');
    throw new Error(`still running after ${ms} ms (it should have refused the directory):\n${c.output()}`);
  }
  return result;
}

async function json<T>(res: Response): Promise<T> {
  const body = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${body}`);
  return JSON.parse(body) as T;
}

describe('one process at a time on an embedded store (DATA_DIR lock)', () => {
  it('refuses a second API and apikey:create (exit 2, holder named); after kill -9 a new API takes over and the data is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-api-lock-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const first = startServer(dataDir, port);
    await waitForPort(port, 60_000);
    const base = `http://127.0.0.1:${port}`;

    // Acknowledged data: a key, a camera and a batch of aggregates (200 = committed).
    const { key } = await json<ApiKeyCreated>(
      await fetch(base + API_ROUTES.apiKeys, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'lock-test', scopes: ['ingest', 'read', 'cameras:write'] }),
      }),
    );
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const cam = await json<Camera>(
      await fetch(base + API_ROUTES.cameras, {
        method: 'POST',
        headers,
        body: JSON.stringify(cameraInput({ name: 'before the crash' })),
      }),
    );
    const ingested = await fetch(base + API_ROUTES.ingestAggregates, {
      method: 'POST',
      headers,
      body: JSON.stringify({ aggregates: [aggregate(cam.id, { volume: 41 })] }),
    });
    expect(ingested.status).toBe(200);

    const lock = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
    expect(lock).toMatchObject({
      pid: first.child.pid,
      host: expect.any(String),
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      command: expect.stringContaining('src/server.ts'),
    });

    // A second API on the same directory: exit 2, naming the holder and the two ways out.
    const second = startServer(dataDir, await freePort());
    expect(await exitCodeWithin(second, 60_000)).toBe(2);
    expect(second.output()).toContain(`is in use by pid ${first.child.pid} on host`);
    expect(second.output()).toContain('command: ');
    expect(second.output()).toMatch(/stop that process first/);
    expect(second.output()).toMatch(/set DATABASE_URL/);
    expect(second.output()).not.toMatch(/\n\s+at /); // a message, not a stack

    // apikey:create while the API runs: the same refusal.
    const cli = runEntry('src/bin/apikey-create.ts', ['--name', 'second-opener'], { DATA_DIR: dataDir });
    expect(await exitCodeWithin(cli, 60_000)).toBe(2);
    expect(cli.output()).toContain(`is in use by pid ${first.child.pid}`);
    expect(cli.output()).toContain('POST /api/v1/admin/api-keys');

    // The holder still serves, untouched by the refused openers.
    expect((await fetch(base + API_ROUTES.camera(cam.id))).status).toBe(200);

    // kill -9: the lock file stays behind with a dead pid.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(true);

    const port3 = await freePort();
    const third = startServer(dataDir, port3);
    await waitForPort(port3, 60_000);
    const base3 = `http://127.0.0.1:${port3}`;
    expect(third.output()).toContain(`took over the data directory's lock from pid ${first.child.pid}`);
    expect(third.output()).toContain(`pid ${first.child.pid} is not running`);
    const totals = await json<Totals>(await fetch(`${base3}${API_ROUTES.totals}?cameraId=${cam.id}`));
    expect(totals).toMatchObject({ volume: 41, intervals: 1 });
    expect((await json<Camera>(await fetch(base3 + API_ROUTES.camera(cam.id)))).name).toBe(
      'before the crash',
    );

    // A clean stop removes the lock: the next opener needs no takeover.
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  }, 180_000);

  it('turns a store PGlite cannot open into a message with the recovery steps (exit 1), not a RuntimeError stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-api-broken-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const first = startServer(dataDir, port);
    await waitForPort(port, 60_000);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // Damage it: empty write-ahead log segments (what PGlite answers with "RuntimeError: Aborted()").
    const wal = join(dataDir, 'pg_wal');
    for (const f of readdirSync(wal)) if (/^[0-9A-F]{24}$/.test(f)) writeFileSync(join(wal, f), '');

    const broken = startServer(dataDir, await freePort());
    expect(await exitCodeWithin(broken, 60_000)).toBe(1);
    const out = broken.output();
    expect(out).toContain(`DATA_DIR ${dataDir}: the embedded store cannot be opened`);
    expect(out).toContain(`move it aside (mv ${dataDir} ${dataDir}.broken-`);
    expect(out).toContain('restore the directory from a backup');
    expect(out).not.toMatch(/\n\s+at /);
    // The refused start leaves no lock behind.
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  }, 120_000);
});
