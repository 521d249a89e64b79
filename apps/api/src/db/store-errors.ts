/**
 * Why the embedded store could not be opened. Like ConfigError, these stop start-up with their message
 * alone (no stack): server.ts and the apikey:create CLI turn them into exit codes.
 */

/** Who holds a data directory, as its lock file records it (db/data-dir-lock.ts). */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the owning process started (for people; `startTicks` is what comparisons use). */
  startedAt: string;
  /** The owner's command line, to tell an API from `apikey:create`. */
  command: string;
  /** Linux: /proc/sys/kernel/random/boot_id, so a lock from before a reboot is known to be stale. */
  bootId?: string | undefined;
  /** Linux: the process's start time in clock ticks since boot, so a reused pid is told apart. */
  startTicks?: number | undefined;
}

/** Another process holds the embedded store's directory (exit code 2: stop it, or use DATABASE_URL). */
export class DataDirLockedError extends Error {
  constructor(
    message: string,
    /** The holder as its lock file records it; undefined when the lock file cannot be read. */
    readonly holder: LockOwner | undefined,
  ) {
    super(message);
    this.name = 'DataDirLockedError';
  }
}

/** The embedded store's files cannot be opened (damaged, or from an incompatible version); exit code 1. */
export class StoreUnreadableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnreadableError';
  }
}
