/**
 * One process at a time on an embedded store's directory. PGlite keeps no lock of its own: a second
 * process (a second API, `apikey:create` while the API runs) opened the same files, both wrote, and the
 * store lost acknowledged batches or would not open again (`RuntimeError: Aborted()`).
 *
 * The lock is a file in the directory, `its-api.lock`, holding its owner as JSON (pid, host, start time,
 * command, and on Linux the boot id and the process's start in clock ticks). It is created atomically
 * with its content (a hard link of a written temporary file, which fails when the lock exists), removed
 * on close, and left behind by a crash: then its owner is gone, which `assessLock` tells apart from a
 * live one on the same host (the pid is not running, or it is a different process that reuses the pid,
 * or the host rebooted since). A stale lock is taken over with a log line; a live one, or one from
 * another host, is refused with {@link DataDirLockedError} naming the holder and what to do.
 *
 * Limits: "this host" means the same host name. Two containers that share a volume AND a host name (a
 * fixed `hostname:` in compose) cannot see each other's processes; give each its own directory, or use
 * PostgreSQL. Two processes taking over the same stale lock in the same instant could, in a window of
 * microseconds, both succeed; starting two at once after a crash is what PostgreSQL is for.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  realpathSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataDirLockedError, type LockOwner } from './store-errors.js';

export type { LockOwner } from './store-errors.js';

export const LOCK_FILE = 'its-api.lock';

/** What a process can see of another process on its own host. */
export interface ProcessProbe {
  /** Whether a process with this pid exists (EPERM counts: it exists, owned by someone else). */
  isRunning(pid: number): boolean;
  /** Its start time in clock ticks since boot, when the system says (Linux); undefined otherwise. */
  startTicks(pid: number): number | undefined;
}

export type LockVerdict =
  | { action: 'create' }
  | { action: 'take-over'; previous: LockOwner; reason: string }
  | {
      action: 'refuse';
      holder: LockOwner | undefined;
      reason: 'running' | 'this-process' | 'other-host' | 'unreadable';
    };

/**
 * Pure: what to do about the lock file's current content (`undefined`: there is none) given who we
 * are, whether this process already holds the directory, and what we can see of other processes.
 */
export function assessLock(
  current: string | undefined,
  self: LockOwner,
  heldByThisProcess: boolean,
  probe: ProcessProbe,
): LockVerdict {
  if (heldByThisProcess) return { action: 'refuse', holder: self, reason: 'this-process' };
  if (current === undefined) return { action: 'create' };
  const owner = parseOwner(current);
  if (!owner) return { action: 'refuse', holder: undefined, reason: 'unreadable' };
  if (owner.host !== self.host) return { action: 'refuse', holder: owner, reason: 'other-host' };
  if (owner.bootId && self.bootId && owner.bootId !== self.bootId)
    return { action: 'take-over', previous: owner, reason: 'the host restarted since it was taken' };
  // Our own pid, but we do not hold it: an earlier process with the same pid (pid 1 in a container).
  if (owner.pid === self.pid)
    return { action: 'take-over', previous: owner, reason: `pid ${owner.pid} is now this process` };
  if (!probe.isRunning(owner.pid))
    return { action: 'take-over', previous: owner, reason: `pid ${owner.pid} is not running` };
  const ticks = owner.startTicks === undefined ? undefined : probe.startTicks(owner.pid);
  if (ticks !== undefined && ticks !== owner.startTicks)
    return {
      action: 'take-over',
      previous: owner,
      reason: `pid ${owner.pid} now belongs to another process (started later)`,
    };
  return { action: 'refuse', holder: owner, reason: 'running' };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    if (typeof v.host !== 'string') return undefined;
    return {
      pid: v.pid,
      host: v.host,
      startedAt: typeof v.startedAt === 'string' ? v.startedAt : 'unknown',
      command: typeof v.command === 'string' ? v.command : 'unknown',
      bootId: typeof v.bootId === 'string' ? v.bootId : undefined,
      startTicks: typeof v.startTicks === 'number' ? v.startTicks : undefined,
    };
  } catch {
    return undefined;
  }
}

/** How a holder is named in messages: `pid 4242 on host api-1 (started …, command: node dist/server.js)`. */
export function describeOwner(owner: LockOwner): string {
  return `pid ${owner.pid} on host ${owner.host} (started ${owner.startedAt}, command: ${owner.command})`;
}

/** The refusal's message: who holds the directory and the ways out. */
export function lockedMessage(
  dataDir: string,
  lockPath: string,
  verdict: Extract<LockVerdict, { action: 'refuse' }>,
): string {
  const ways =
    'The embedded store allows one process at a time: stop that process first (to create an API key ' +
    'while the API runs, use POST /api/v1/admin/api-keys with the ADMIN_TOKEN), or set DATABASE_URL to ' +
    'use PostgreSQL, which any number of processes can share.';
  switch (verdict.reason) {
    case 'this-process':
      return `DATA_DIR ${dataDir} is already open in this process (pid ${verdict.holder?.pid}); close the other store first. ${ways}`;
    case 'running':
      return `DATA_DIR ${dataDir} is in use by ${describeOwner(verdict.holder!)}. ${ways} Lock file: ${lockPath}.`;
    case 'other-host':
      return (
        `DATA_DIR ${dataDir} is in use by ${describeOwner(verdict.holder!)}, another host, whose processes ` +
        `this one cannot see. ${ways} If that process is gone (the directory was moved or mounted ` +
        `elsewhere), delete ${lockPath} and start again.`
      );
    case 'unreadable':
      return (
        `DATA_DIR ${dataDir} has a lock file this version cannot read (${lockPath}): another process ` +
        `may be using the directory. ${ways} If none is, delete ${lockPath} and start again.`
      );
  }
}

/** The real process probe: signal 0 and /proc. */
export const systemProbe: ProcessProbe = {
  isRunning(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  startTicks(pid) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Field 2 (the command name) is in parentheses and may hold spaces; starttime is field 22.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[19]);
      return Number.isFinite(ticks) ? ticks : undefined;
    } catch {
      return undefined;
    }
  },
};

function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This process as a lock owner. */
export function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    command: process.argv.join(' ').slice(0, 300),
    bootId: readBootId(),
    startTicks: systemProbe.startTicks(process.pid),
  };
}

/** Directories (real paths) this process holds, so a second open in the same process is refused too. */
const heldHere = new Set<string>();

export interface DataDirLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

export interface AcquireOptions {
  owner?: LockOwner;
  probe?: ProcessProbe;
  /** Told once when a stale lock is taken over. */
  onTakeOver?: (previous: LockOwner, reason: string, lockPath: string) => void;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates `path` with `content`, failing with EEXIST when it exists; never leaves it empty. */
function createExclusive(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // A file system without hard links: exclusive create, then write (a crash in between leaves an
    // empty lock, which the next opener refuses as unreadable and names).
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Takes the lock of `dataDir` (which must exist) or throws {@link DataDirLockedError}. A stale lock is
 * taken over, and `onTakeOver` told.
 */
export function acquireDataDirLock(dataDir: string, options: AcquireOptions = {}): DataDirLock {
  const owner = options.owner ?? currentOwner();
  const probe = options.probe ?? systemProbe;
  const real = realpathSync(dataDir);
  const lockPath = join(real, LOCK_FILE);
  const content = `${JSON.stringify(owner, null, 2)}\n`;
  for (let attempt = 0; ; attempt++) {
    const current = readIfExists(lockPath);
    const verdict = assessLock(current, owner, heldHere.has(real), probe);
    if (verdict.action === 'refuse')
      throw new DataDirLockedError(lockedMessage(dataDir, lockPath, verdict), verdict.holder);
    if (attempt >= 5)
      throw new DataDirLockedError(
        `DATA_DIR ${dataDir}: other processes keep taking its lock (${lockPath}); start one process at a time, or set DATABASE_URL to use PostgreSQL.`,
        undefined,
      );
    if (verdict.action === 'take-over') {
      // Remove it only if it is still the stale lock we judged (another opener may have replaced it).
      if (readIfExists(lockPath) !== current) continue;
      try {
        unlinkSync(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    try {
      createExclusive(lockPath, content);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // someone was faster: judge again
      throw err;
    }
    if (verdict.action === 'take-over') options.onTakeOver?.(verdict.previous, verdict.reason, lockPath);
    heldHere.add(real);
    let released = false;
    return {
      path: lockPath,
      owner,
      release() {
        if (released) return;
        released = true;
        heldHere.delete(real);
        try {
          if (readIfExists(lockPath) === content) unlinkSync(lockPath);
        } catch {
          // Already gone, or the directory was removed: nothing to release.
        }
      },
    };
  }
}
