/**
 * Several workers may share one BUFFER_DIR (compose `--scale vision=2` mounts one volume into every
 * replica). Each worker process therefore buffers in a directory of its own under it, never shared:
 * sequence numbers and deletions of two writers can never collide, whatever the clocks or the load.
 * What a worker leaves undelivered (API down at shutdown, a crash, kill -9) is adopted by the next
 * worker that scans the root: its batches are renamed one by one into the adopter's directory, so each
 * goes to exactly one adopter even when two scan at once. Only the choice of what is orphaned is a
 * judgement (below), and a wrong one loses nothing: the owner finds the file gone and the adopter
 * delivers it (the API dedupes events and keys aggregates on the counting session).
 *
 *   BUFFER_DIR/<name>-<random>/owner.json     {host, pid, name, startedAt, released}; touched every 10 s
 *   BUFFER_DIR/<name>-<random>/000000000001.aggregates.json …
 *   BUFFER_DIR/000000000001.events.json …     the layout before per-worker directories: adopted too
 */
import { randomBytes } from 'node:crypto';
import {
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DiskBuffer } from './disk-buffer.js';

export interface BufferOwner {
  host: string;
  pid: number;
  name: string;
  /** When the owning process started: with host and pid, it names one process. */
  startedAt: string;
  /** Written at shutdown when batches stay behind: any worker may adopt them at once. */
  released?: boolean;
}

export interface BufferClaimOptions {
  /** BUFFER_DIR: the root shared by every worker that mounts it. */
  root: string;
  /** WORKER_NAME, for a directory a person can recognise. */
  name: string;
  host?: string;
  pid?: number;
  /** The process's start time (default: this process's). */
  startedAt?: string;
  now?: () => number;
  /** An owner not seen for this long (owner.json untouched) is gone. Default 60 s: 6 missed touches. */
  staleMs?: number;
  /** Whether a process of this host runs under that pid. */
  isAlive?: (pid: number) => boolean;
}

export interface BufferClaim {
  /** This process's own directory: open the disk buffer there. */
  readonly dir: string;
  /** Moves every orphaned directory's batches into `buffer`, then removes those directories. */
  adoptOrphans(buffer: DiskBuffer): Promise<number>;
  /** Shows this owner alive (touches owner.json). */
  touch(): Promise<void>;
  /** At shutdown: an empty directory is removed; one with batches left is marked released for adoption. */
  release(buffer: DiskBuffer): Promise<void>;
}

export const OWNER_FILE = 'owner.json';
export const DEFAULT_STALE_MS = 60_000;
/** How often a running worker touches its owner file and looks for orphans (run-worker.ts). */
export const CLAIM_TOUCH_MS = 10_000;

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Pure: whether another worker's directory is orphaned. `owner` is null when owner.json is missing or
 * unreadable (a worker killed between mkdir and writing it): orphaned once the directory is stale.
 * On this host a dead pid settles it at once — and so does our own pid with another start time: in a
 * restarted container (same host name, same pid under tini) it was a previous incarnation. Elsewhere,
 * or when the pid now belongs to another process, only staleness can tell.
 */
export function isOrphaned(
  owner: BufferOwner | null,
  lastSeenMs: number,
  self: { host: string; pid: number; startedAt: string },
  nowMs: number,
  staleMs: number,
  isAlive: (pid: number) => boolean,
): boolean {
  if (owner?.released) return true;
  if (owner?.host === self.host) {
    if (owner.pid === self.pid) {
      if (owner.startedAt !== self.startedAt) return true;
    } else if (!isAlive(owner.pid)) return true;
  }
  return nowMs - lastSeenMs > staleMs;
}

/** This process's start, fixed once (a restarted process gets another). */
const PROCESS_STARTED_AT = new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString();

const safeName = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40) || 'worker';

export async function claimBufferDir(options: BufferClaimOptions): Promise<BufferClaim> {
  const self = {
    host: options.host ?? hostname(),
    pid: options.pid ?? process.pid,
    startedAt: options.startedAt ?? PROCESS_STARTED_AT,
  };
  const now = options.now ?? Date.now;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const isAlive = options.isAlive ?? processAlive;
  const base = `${safeName(options.name)}-${randomBytes(4).toString('hex')}`;
  const dir = join(options.root, base);
  const ownerFile = join(dir, OWNER_FILE);
  const owner: BufferOwner = { ...self, name: options.name };
  const writeOwner = async (record: BufferOwner) => {
    await writeFile(`${ownerFile}.tmp`, JSON.stringify(record));
    await rename(`${ownerFile}.tmp`, ownerFile);
  };
  await mkdir(dir, { recursive: true });
  await writeOwner(owner);

  const readOwner = async (d: string): Promise<{ owner: BufferOwner | null; lastSeenMs: number }> => {
    const file = join(d, OWNER_FILE);
    const seen = await stat(file).catch(() => stat(d));
    try {
      return { owner: JSON.parse(await readFile(file, 'utf8')) as BufferOwner, lastSeenMs: seen.mtimeMs };
    } catch {
      return { owner: null, lastSeenMs: seen.mtimeMs };
    }
  };

  // After adoption only the owner file and torn writes (.tmp, never acknowledged) can be left. Nothing
  // is removed recursively: should the owner be alive after all, its next batch keeps the directory.
  const removeOrphanDir = async (d: string) => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const file = join(d, name);
      const old = await stat(file).then(
        (s) => now() - s.mtimeMs > staleMs,
        () => false,
      );
      if (name === OWNER_FILE || (name.endsWith('.tmp') && old)) await unlink(file).catch(() => undefined);
    }
    await rmdir(d).catch(() => undefined);
  };

  return {
    dir,
    async adoptOrphans(buffer) {
      // Batches at the root: the layout before per-worker directories.
      let adopted = await buffer.adopt(options.root);
      const children = await readdir(options.root, { withFileTypes: true }).catch(() => []);
      for (const child of children) {
        if (!child.isDirectory() || child.name === base) continue;
        const d = join(options.root, child.name);
        let seen;
        try {
          seen = await readOwner(d);
        } catch {
          continue; // removed meanwhile by another adopter
        }
        if (!isOrphaned(seen.owner, seen.lastSeenMs, self, now(), staleMs, isAlive)) continue;
        adopted += await buffer.adopt(d);
        await removeOrphanDir(d);
      }
      return adopted;
    },
    async touch() {
      const t = new Date(now());
      await utimes(ownerFile, t, t).catch(() => writeOwner(owner));
    },
    async release(buffer) {
      if (buffer.depth === 0) await rm(dir, { recursive: true, force: true });
      else await writeOwner({ ...owner, released: true });
    },
  };
}
