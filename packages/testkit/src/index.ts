/**
 * Real servers for integration tests. Each call starts a private PostgreSQL or Redis on a free
 * loopback port in a temporary directory, so a test may stop and restart it (fault tests) without
 * disturbing any other test. Nothing here mocks anything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@its/core';

const run = promisify(execFile);

export { freePort };

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pgBinDir(): string {
  const explicit = process.env.PG_BIN_DIR;
  if (explicit) return explicit;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error(
    'PostgreSQL server binaries not found: install them with `apt-get install -y postgresql` ' +
      '(or set PG_BIN_DIR to the directory holding initdb and postgres).',
  );
}

/**
 * PostgreSQL refuses to run as root; when we are root, its processes run as the `postgres` user
 * (created by the Debian package). Signals then reach postgres itself, not a wrapper.
 */
async function pgUserIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

export interface PostgresServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'its-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const ids = await pgUserIds();
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'its', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
    ...ids,
    cwd: dir,
  });
  let child: ChildProcess | undefined;
  const server: PostgresServer = {
    port,
    url: `postgres://its@127.0.0.1:${port}/postgres`,
    async start() {
      const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir];
      args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
      child = spawn(join(bin, 'postgres'), args, { ...ids, cwd: dir, stdio: 'ignore' });
      await waitForPort(port);
      // Accepting TCP is not the same as accepting queries: wait for pg_isready.
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'its']);
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async stop() {
      const p = child;
      child = undefined;
      if (!p || p.exitCode !== null) return;
      // SIGINT is PostgreSQL's "fast shutdown": disconnect clients, stop now.
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGINT');
      });
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const bin = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
  if (!existsSync(bin)) {
    throw new Error(
      'redis-server not found: install it with `apt-get install -y redis-server` (or set REDIS_SERVER_BIN).',
    );
  }
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
