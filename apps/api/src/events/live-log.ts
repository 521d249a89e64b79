/**
 * The live stream's recent past: every event the bus delivers gets an id (`<epoch>-<seq>`), its SSE text
 * once (shared by every client, however many), and a place in a bounded window (at most `maxEvents`,
 * none older than `maxAgeMs`) from which a client that reconnects with `Last-Event-ID` gets what it
 * missed. The epoch is new for each API instance (and start), so an id from another instance or from
 * before a restart is recognised as unknown rather than mistaken for a position in this window.
 */
import { randomBytes } from 'node:crypto';
import type { LiveEvent } from '@its/contracts';

export interface LiveEntry {
  /** The SSE `id:`; what a reconnecting client sends back as `Last-Event-ID`. */
  id: string;
  seq: number;
  cameraId: string;
  /** The complete SSE message, `id:`, `event:` and `data:` lines. */
  text: string;
  /** `text` in UTF-8 bytes: what the message costs in a socket buffer. */
  bytes: number;
  atMs: number;
}

/** Formats one Server-Sent Event; the event name is the LiveEvent's type. */
export function formatSse(event: LiveEvent, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

export type ReplayAnswer =
  /** `complete: false`: events after the client's id fell out of the window before it came back. */
  | { kind: 'replay'; entries: LiveEntry[]; complete: boolean }
  /** Not an id of this instance's current run (another instance, a restart, or garbage). */
  | { kind: 'unknown' };

export interface LiveLog {
  readonly epoch: string;
  /** Gives the event its id and text, keeps it in the window, and returns it. */
  append(event: LiveEvent): LiveEntry;
  /** What a client that last saw `lastEventId` missed, oldest first. */
  since(lastEventId: string): ReplayAnswer;
  /** Entries in the window now (for tests and metrics). */
  readonly size: number;
}

export interface LiveLogOptions {
  /** Most events kept for replay; 0 keeps none. */
  maxEvents: number;
  /** Oldest event kept for replay, in ms. */
  maxAgeMs: number;
  now: () => number;
  /** Default: random, so ids from another instance or run never match. */
  epoch?: string;
}

const ID = /^([0-9a-z]+)-(\d{1,15})$/;

export function createLiveLog(options: LiveLogOptions): LiveLog {
  const epoch = options.epoch ?? randomBytes(4).toString('hex');
  // A queue as an array and a head index; compacted when half of it is spent.
  let entries: LiveEntry[] = [];
  let head = 0;
  let lastSeq = 0;

  const prune = (nowMs: number) => {
    const oldest = nowMs - options.maxAgeMs;
    while (
      head < entries.length &&
      (entries.length - head > options.maxEvents || entries[head]!.atMs < oldest)
    )
      head++;
    if (head > 1024 && head * 2 > entries.length) {
      entries = entries.slice(head);
      head = 0;
    }
  };

  return {
    epoch,
    append(event) {
      const seq = ++lastSeq;
      const id = `${epoch}-${seq}`;
      const text = formatSse(event, id);
      const atMs = options.now();
      const entry: LiveEntry = {
        id,
        seq,
        cameraId: event.data.cameraId,
        text,
        bytes: Buffer.byteLength(text),
        atMs,
      };
      if (options.maxEvents > 0) entries.push(entry);
      prune(atMs);
      return entry;
    },
    since(lastEventId) {
      const m = ID.exec(lastEventId.trim());
      if (!m || m[1] !== epoch) return { kind: 'unknown' };
      const seen = Number(m[2]);
      if (seen > lastSeq) return { kind: 'unknown' };
      prune(options.now());
      const firstKept = head < entries.length ? entries[head]!.seq : lastSeq + 1;
      // Entries are in seq order without gaps: the first one after `seen` is at a known offset.
      const start = head + Math.max(0, seen + 1 - firstKept);
      return { kind: 'replay', entries: entries.slice(start), complete: seen + 1 >= firstKept };
    },
    get size() {
      return entries.length - head;
    },
  };
}
