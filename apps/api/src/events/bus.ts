/**
 * Live events fan-out. In-process (EventEmitter) by default; Redis pub/sub when REDIS_URL is set, so
 * every API instance behind a load balancer sees every event. Both implement the same interface.
 */
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LiveEvent } from '@its/contracts';

export type LiveEventHandler = (event: LiveEvent) => void;

export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /** Resolves once the event is handed to the transport; never throws for a delivery failure. */
  publish(event: LiveEvent): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(handler: LiveEventHandler): () => void;
  /** Readiness: resolves when the transport is reachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  // One listener per open SSE connection; the default cap of 10 would only produce warnings.
  emitter.setMaxListeners(0);
  return {
    kind: 'memory',
    async publish(event) {
      emitter.emit('event', event);
    },
    subscribe(handler) {
      emitter.on('event', handler);
      return () => emitter.off('event', handler);
    },
    async ping() {},
    async close() {
      emitter.removeAllListeners();
    },
  };
}

export const REDIS_CHANNEL = 'its:live-events';

export interface RedisBusOptions {
  url: string;
  logger?: Pick<Logger, 'warn' | 'error'>;
  channel?: string;
}

/**
 * Publishes to a Redis channel and delivers what the channel carries, including this instance's own
 * events (so local and remote subscribers see one order). Publishing never queues while Redis is down:
 * the data is already committed, and a live view may miss an event but must not stall ingestion.
 */
export async function createRedisBus(opts: RedisBusOptions): Promise<EventBus> {
  const channel = opts.channel ?? REDIS_CHANNEL;
  const common = { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 } as const;
  const pub = new Redis(opts.url, { ...common, enableOfflineQueue: false });
  const sub = new Redis(opts.url, common);
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  // ioredis emits 'error' on every failed reconnect; unhandled, an EventEmitter 'error' kills the process.
  for (const client of [pub, sub]) {
    client.on('error', (err: Error) =>
      opts.logger?.warn({ err: { message: err.message } }, 'redis connection error'),
    );
  }
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const parsed = LiveEvent.safeParse(JSON.parse(message));
      if (parsed.success) emitter.emit('event', parsed.data);
      else opts.logger?.warn({ channel }, 'ignored a malformed live event from redis');
    } catch {
      opts.logger?.warn({ channel }, 'ignored a non-JSON live event from redis');
    }
  });
  await Promise.all([pub.connect(), sub.connect()]);
  await sub.subscribe(channel);
  return {
    kind: 'redis',
    async publish(event) {
      try {
        await pub.publish(channel, JSON.stringify(event));
      } catch (err) {
        opts.logger?.warn({ err: { message: (err as Error).message } }, 'live event not published');
      }
    },
    subscribe(handler) {
      emitter.on('event', handler);
      return () => emitter.off('event', handler);
    },
    async ping() {
      await pub.ping();
    },
    async close() {
      emitter.removeAllListeners();
      await Promise.allSettled([pub.quit(), sub.quit()]);
      pub.disconnect();
      sub.disconnect();
    },
  };
}
