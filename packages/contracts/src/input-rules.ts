/**
 * The rules every string and timestamp that crosses the wire obeys, in one place so the API (which
 * rejects) and the worker (which sends, and drops what the API rejects for good) agree.
 *
 * Why they exist: PostgreSQL cannot store a NUL character in text (`invalid byte sequence`) nor a year
 * 0 (`date/time field value out of range`); without these rules such input was a 500, which the worker
 * retries forever. A timestamp far in the future (9999-12-31) became a camera's "latest" interval for
 * good. Each rule's message starts with what is wrong, after the field path the API puts in front.
 */
import { z } from 'zod';

/** NUL: the one character PostgreSQL text cannot hold. Every free-text field refuses it. */
export const hasNul = (s: string): boolean => s.includes('\u0000');
export const NUL_MESSAGE = 'must not contain NUL (\\u0000) characters';

/** C0 controls and DEL: never part of a URL a camera serves; a newline in one splits log lines. */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
export const CONTROL_MESSAGE = 'must not contain control characters (such as NUL, a tab or a newline)';

/** A free-text field: 1..max characters, no NUL. */
export const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !hasNul(s), NUL_MESSAGE);

/**
 * The earliest instant accepted anywhere, ingested or queried: 2000-01-01T00:00:00Z. No camera of this
 * system recorded anything before it; a year 0000 or 1970 timestamp is a bug or a probe.
 */
export const EARLIEST_TIMESTAMP = '2000-01-01T00:00:00.000Z';
/**
 * The latest instant a query may name: 2100-01-01T00:00:00Z. Queries may look ahead (the current
 * bucket, a dashboard's "next hour"), just not into years no bucket arithmetic needs.
 */
export const LATEST_QUERY_TIMESTAMP = '2100-01-01T00:00:00.000Z';
/**
 * How far ahead of the API's clock an ingested timestamp (a crossing's `ts`, an aggregate's
 * `intervalStart`) may be: 5 minutes. The worker stamps data with its own clock; 5 minutes absorbs any
 * NTP-synchronised skew, while a date further ahead would become a camera's "latest" counts until
 * real time catches up (for 9999-12-31: for ever). The API rejects the whole batch (400), and the
 * worker drops it rather than retrying.
 */
export const MAX_INGEST_AHEAD_MS = 5 * 60_000;

const EARLIEST_MS = Date.parse(EARLIEST_TIMESTAMP);
const LATEST_QUERY_MS = Date.parse(LATEST_QUERY_TIMESTAMP);

/** An ISO-8601 UTC timestamp (`…Z`) not before {@link EARLIEST_TIMESTAMP}. */
export const ingestTimestamp = () =>
  z
    .string()
    .datetime()
    .refine((s) => Date.parse(s) >= EARLIEST_MS, `must not be before ${EARLIEST_TIMESTAMP}`);

/** An ISO-8601 UTC timestamp in [{@link EARLIEST_TIMESTAMP}, {@link LATEST_QUERY_TIMESTAMP}). */
export const queryTimestamp = () =>
  z
    .string()
    .datetime()
    .refine((s) => {
      const ms = Date.parse(s);
      return ms >= EARLIEST_MS && ms < LATEST_QUERY_MS;
    }, `must be from ${EARLIEST_TIMESTAMP} up to (not including) ${LATEST_QUERY_TIMESTAMP}`);

/**
 * Why an ingested timestamp is unacceptable at `nowMs` (the receiver's clock), or undefined. The
 * schema checks what does not depend on the clock; this is the rest.
 */
export function checkIngestedTime(iso: string, nowMs: number): string | undefined {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return 'must be an ISO-8601 timestamp';
  if (ms < EARLIEST_MS) return `must not be before ${EARLIEST_TIMESTAMP}`;
  if (ms > nowMs + MAX_INGEST_AHEAD_MS)
    return `is ${describeAhead(ms - nowMs)} ahead of the API's clock (${new Date(nowMs).toISOString()}); at most ${MAX_INGEST_AHEAD_MS / 60_000} minutes are accepted (MAX_INGEST_AHEAD_MS): check the sender's clock`;
  return undefined;
}

function describeAhead(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes)} minutes`;
  const days = minutes / 1440;
  return days < 2 ? `${Math.round(minutes / 60)} hours` : `${Math.round(days)} days`;
}

/** At most this many timestamp problems are listed in one message; the count of the rest follows. */
const MAX_LISTED = 5;

/**
 * The clock-dependent problems of an ingestion batch, each as `events/3/ts: …` (the API prefixes
 * `body/`), at most a few listed and the rest counted. Empty when the batch is acceptable.
 */
export function findIngestTimeIssues(
  batch: { events: readonly { ts: string }[] } | { aggregates: readonly { intervalStart: string }[] },
  nowMs: number,
): string[] {
  const issues: string[] = [];
  const times: Array<[string, string]> =
    'events' in batch
      ? batch.events.map((e, i) => [`events/${i}/ts`, e.ts])
      : batch.aggregates.map((a, i) => [`aggregates/${i}/intervalStart`, a.intervalStart]);
  let more = 0;
  for (const [path, iso] of times) {
    const problem = checkIngestedTime(iso, nowMs);
    if (problem === undefined) continue;
    if (issues.length < MAX_LISTED) issues.push(`${path}: ${problem}`);
    else more++;
  }
  if (more > 0) issues.push(`… and ${more} more timestamps out of range`);
  return issues;
}

/** The schemes a camera's stream URL may use. `file` only where a deployment enables it (tests, demos). */
export const STREAM_URL_SCHEMES = ['rtsp', 'rtsps', 'http', 'https'] as const;

/**
 * A camera's stream URL: rtsp, rtsps, http or https (and `file:` only with `allowFile`, which the
 * API's ALLOW_FILE_STREAM_URLS turns on: a file URL makes the worker read a file of its own machine,
 * `file:///etc/shadow` included), at most 2048 characters, no control characters.
 */
export function streamUrl(options: { allowFile?: boolean } = {}) {
  const schemes = [...STREAM_URL_SCHEMES, ...(options.allowFile ? ['file'] : [])];
  const scheme = new RegExp(`^(${schemes.join('|')}):\\/\\/`);
  const message = options.allowFile
    ? 'use an rtsp://, rtsps://, http(s):// or file:// URL'
    : 'use an rtsp://, rtsps:// or http(s):// URL (file:// only where the API sets ALLOW_FILE_STREAM_URLS=true)';
  return z
    .string()
    .min(1)
    .max(2048)
    .refine((s) => !hasControlCharacter(s), CONTROL_MESSAGE)
    .regex(scheme, message);
}
