/**
 * Delivery of crossings and interval aggregates. Every batch is written to the disk buffer first and
 * removed only after the API acknowledges it, so a crash or an outage loses nothing that fits the
 * bound; one loop sends oldest-first, so batches arrive in order. Retries are safe because the API
 * dedupes events by id and keys aggregates on (camera, interval, lane, class, counting session).
 */
import type { AggregateBatch, CrossingEventBatch } from '@its/contracts';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { ApiClient } from './api-client.js';
import type { DiskBuffer } from './disk-buffer.js';
import { ApiRejectedError } from './errors.js';

export type OutboxBatch =
  { kind: 'events'; body: CrossingEventBatch } | { kind: 'aggregates'; body: AggregateBatch };

export interface OutboxStats {
  delivered: number;
  rejected: number;
  failures: number;
  lastError: string | null;
}

export interface Outbox {
  enqueue(batch: OutboxBatch): Promise<void>;
  /** Resolves when the buffer is empty (true) or the deadline passes (false). */
  drain(timeoutMs: number): Promise<boolean>;
  stop(): void;
  readonly stats: OutboxStats;
  readonly buffer: DiskBuffer;
}

export interface OutboxOptions {
  buffer: DiskBuffer;
  client: Pick<ApiClient, 'postEvents' | 'postAggregates'>;
  backoff?: BackoffPolicy;
  log?: (level: 'warn' | 'error', message: string) => void;
  /** Told once per batch the API refused for good (dropped, not retried): the worker counts it in a metric. */
  onRejected?: (batch: OutboxBatch & { seq: number }, err: ApiRejectedError) => void;
}

/** The contract caps a batch at 5000 items; split bigger ones so none is rejected for size. */
export const MAX_BATCH_ITEMS = 5000;

export function splitBatch(batch: OutboxBatch): OutboxBatch[] {
  const items = batch.kind === 'events' ? batch.body.events : batch.body.aggregates;
  const out: OutboxBatch[] = [];
  for (let i = 0; i < items.length; i += MAX_BATCH_ITEMS) {
    const part = items.slice(i, i + MAX_BATCH_ITEMS);
    out.push(
      batch.kind === 'events'
        ? { kind: 'events', body: { events: part as CrossingEventBatch['events'] } }
        : { kind: 'aggregates', body: { aggregates: part as AggregateBatch['aggregates'] } },
    );
  }
  return out;
}

export function createOutbox(options: OutboxOptions): Outbox {
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000, factor: 2 };
  const stats: OutboxStats = { delivered: 0, rejected: 0, failures: 0, lastError: null };
  let running = false;
  let stopped = false;
  let wake: (() => void) | null = null;
  let sleepTimer: NodeJS.Timeout | null = null;
  const idleWaiters = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sleepTimer = setTimeout(resolve, ms);
    }).finally(() => {
      wake = null;
      if (sleepTimer) clearTimeout(sleepTimer);
      sleepTimer = null;
    });

  const loop = async () => {
    if (running) return;
    running = true;
    let attempt = 0;
    try {
      while (!stopped) {
        const batch = await options.buffer.oldest();
        if (!batch) break;
        try {
          if (batch.kind === 'events') await options.client.postEvents(batch.body as CrossingEventBatch);
          else await options.client.postAggregates(batch.body as AggregateBatch);
          stats.delivered++;
          attempt = 0;
          await options.buffer.remove(batch.seq);
        } catch (err) {
          if (err instanceof ApiRejectedError) {
            // A batch the API refuses for good would block every later batch; drop it loudly.
            // (A 400 names the field: a NUL character, a timestamp out of range; retrying cannot help.)
            stats.rejected++;
            options.log?.('error', `dropping ${batch.kind} batch ${batch.seq}: ${err.message}`);
            options.onRejected?.(
              batch.kind === 'events'
                ? { kind: 'events', body: batch.body as CrossingEventBatch, seq: batch.seq }
                : { kind: 'aggregates', body: batch.body as AggregateBatch, seq: batch.seq },
              err,
            );
            await options.buffer.remove(batch.seq);
            continue;
          }
          stats.failures++;
          stats.lastError = (err as Error).message;
          options.log?.(
            'warn',
            `delivery of ${batch.kind} batch ${batch.seq} failed, retrying: ${stats.lastError}`,
          );
          await sleep(backoffDelay(attempt++, backoff));
        }
      }
    } finally {
      running = false;
      if (options.buffer.depth === 0) for (const w of idleWaiters) w();
      // A batch appended just after the loop saw an empty buffer would otherwise wait for the next kick.
      else if (!stopped) void loop();
    }
  };

  const kick = () => {
    if (running) wake?.();
    else void loop();
  };
  // Deliver whatever a previous run left on disk.
  kick();

  return {
    async enqueue(batch) {
      for (const part of splitBatch(batch)) {
        const items = part.kind === 'events' ? part.body.events : part.body.aggregates;
        if (items.length) await options.buffer.append(part.kind, part.body);
      }
      kick();
    },
    async drain(timeoutMs) {
      if (options.buffer.depth === 0 && !running) return true;
      kick();
      return new Promise<boolean>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          idleWaiters.delete(done);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(done);
          resolve(false);
        }, timeoutMs);
        idleWaiters.add(done);
      });
    },
    stop() {
      stopped = true;
      wake?.();
    },
    stats,
    buffer: options.buffer,
  };
}
