import type { Detection } from '@its/contracts';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { QueryCache } from './cache/query-cache.js';
import type { Config } from './config.js';
import type { EventBus } from './events/bus.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/create-store.js';

/** Finds vehicles in a JPEG frame. The vision worker provides the real one; none by default. */
export interface Detector {
  detect(jpeg: Buffer): Promise<Detection[]>;
}

export interface AppDeps {
  config: Config;
  store: Store;
  bus: EventBus;
  /** Read-query cache; default: in-process with CACHE_TTL_MS (off when 0). */
  cache?: QueryCache;
  /** When absent, `POST /api/v1/detect` answers 503. */
  detector?: Detector | undefined;
  /** Injected so tests control time; defaults to the wall clock. */
  clock?: () => Date;
  /** A pino logger to use instead of one built from LOG_LEVEL. */
  logger?: FastifyBaseLogger;
}

export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface Guards {
  /** A valid API key. */
  apiKey: (req: { headers: Record<string, string | string[] | undefined> }) => Promise<void>;
  /** An API key when API_KEYS_READ_REQUIRED, nothing otherwise. */
  read: (req: { headers: Record<string, string | string[] | undefined> }) => Promise<void>;
  /** The ADMIN_TOKEN as a bearer token. */
  admin: (req: { headers: Record<string, string | string[] | undefined> }) => Promise<void>;
  /** An API key or the ADMIN_TOKEN (camera management). */
  writer: (req: { headers: Record<string, string | string[] | undefined> }) => Promise<void>;
  /** Whether the request presents a valid API key or the ADMIN_TOKEN; never throws for a missing or wrong one. */
  trusted: (req: { headers: Record<string, string | string[] | undefined> }) => Promise<boolean>;
}

export interface RouteContext {
  config: Config;
  store: Store;
  bus: EventBus;
  cache: QueryCache;
  detector: Detector | undefined;
  clock: () => Date;
  metrics: Metrics;
  guards: Guards;
  startedAt: number;
}
