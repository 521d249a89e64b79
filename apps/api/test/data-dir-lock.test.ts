import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  assessLock,
  currentOwner,
  LOCK_FILE,
  type LockOwner,
  type ProcessProbe,
} from '../src/db/data-dir-lock.js';
import { DataDirLockedError } from '../src/db/store-errors.js';
import { createStore } from '../src/store/create-store.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'its-lock-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const self: LockOwner = {
  pid: 100,
  host: 'api-1',
  startedAt: '2026-01-01T00:00:00.000Z',
  command: 'node dist/server.js',
  bootId: 'boot-a',
  startTicks: 5000,
};
const other = (over: Partial<LockOwner> = {}): string =>
  JSON.stringify({ ...self, pid: 200, startTicks: 4000, ...over });
const probe = (running: Record<number, number | undefined>): ProcessProbe => ({
  isRunning: (pid) => pid in running,
  startTicks: (pid) => running[pid],
});

describe('assessLock (pure)', () => {
  it.each<[string, string | undefined, boolean, ProcessProbe, string]>([
    ['no lock file', undefined, false, probe({}), 'create'],
    ['held by this process already', undefined, true, probe({}), 'refuse:this-process'],
    ['a running owner on this host', other(), false, probe({ 200: 4000 }), 'refuse:running'],
    [
      'a running owner whose start time the OS does not tell',
      other(),
      false,
      probe({ 200: undefined }),
      'refuse:running',
    ],
    ['an owner on another host', other({ host: 'api-2' }), false, probe({}), 'refuse:other-host'],
    ['an unreadable lock file', 'not json', false, probe({}), 'refuse:unreadable'],
    ['an empty lock file', '', false, probe({}), 'refuse:unreadable'],
    ['a dead pid on this host', other(), false, probe({}), 'take-over:pid 200 is not running'],
    [
      'a reused pid (another start time)',
      other(),
      false,
      probe({ 200: 9999 }),
      'take-over:pid 200 now belongs to another process (started later)',
    ],
    [
      'a lock from before a reboot',
      other({ bootId: 'boot-b' }),
      false,
      probe({ 200: 4000 }),
      'take-over:the host restarted since it was taken',
    ],
    [
      'our own pid, not held here (pid 1 in a restarted container)',
      other({ pid: 100 }),
      false,
      probe({ 100: 5000 }),
      'take-over:pid 100 is now this process',
    ],
  ])('%s', (_name, current, held, p, expected) => {
    const v = assessLock(current, self, held, p);
    const got =
      v.action === 'refuse'
        ? `refuse:${v.reason}`
        : v.action === 'take-over'
          ? `take-over:${v.reason}`
          : v.action;
    expect(got).toBe(expected);
  });
});

describe('acquireDataDirLock', () => {
  it('records the owner, refuses a second opener in this process naming it, and releases on request', () => {
    const dir = tempDir();
    const lock = acquireDataDirLock(dir);
    const recorded = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
    expect(recorded).toMatchObject({
      pid: process.pid,
      host: currentOwner().host,
      command: expect.any(String),
    });
    expect(() => acquireDataDirLock(dir)).toThrow(
      new RegExp(`^DATA_DIR ${dir} is already open in this process \\(pid ${process.pid}\\)`),
    );
    lock.release();
    lock.release(); // idempotent
    acquireDataDirLock(dir).release();
  });

  it('refuses a live owner (the parent process) with the holder and both ways out', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({
        pid: process.ppid,
        host: currentOwner().host,
        startedAt: 'x',
        command: 'node dist/server.js',
      }),
    );
    let err: unknown;
    try {
      acquireDataDirLock(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).holder?.pid).toBe(process.ppid);
    expect((err as Error).message).toMatch(
      new RegExp(`is in use by pid ${process.ppid} on host .* \\(started x, command: node dist/server.js\\)`),
    );
    expect((err as Error).message).toContain('stop that process first');
    expect((err as Error).message).toContain('set DATABASE_URL');
    // Refusing changes nothing.
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.ppid);
  });

  it('takes over the lock of a dead process on this host, once, and says so', () => {
    const dir = tempDir();
    const dead: LockOwner = { ...currentOwner(), pid: 2 ** 22 + 7, startTicks: undefined };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(dead));
    const told: string[] = [];
    const lock = acquireDataDirLock(dir, {
      onTakeOver: (prev, reason) => told.push(`${prev.pid}: ${reason}`),
    });
    expect(told).toEqual([`${dead.pid}: pid ${dead.pid} is not running`]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('the embedded store takes it: a second createStore on one directory in one process is refused', async () => {
    const dir = tempDir();
    const store = await createStore({ dataDir: dir });
    try {
      await expect(createStore({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      await store.close();
    }
    const again = await createStore({ dataDir: dir });
    await again.close();
  }, 60_000);
});
