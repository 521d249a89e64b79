import type { ApiKeyScope, Detection } from '@its/contracts';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CallerIdentifier } from './auth/identify-caller.js';
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

type Guard = (req: { headers: Record<string, string | string[] | undefined> }) => Promise<void>;

/** Request guards (auth/guards.ts). The ADMIN_TOKEN passes every scope check. */
export interface Guards {
  /** The ADMIN_TOKEN or a key with every one of `scopes`: 401 without a valid credential, 403 naming what is missing. */
  require: (
    req: { headers: Record<string, string | string[] | undefined> },
    scopes: readonly ApiKeyScope[],
  ) => Promise<void>;
  /** `require` with one scope, as a preValidation hook. */
  scope: (scope: ApiKeyScope) => Guard;
  /** `scope('read')` when API_KEYS_READ_REQUIRED, nothing otherwise. */
  read: Guard;
  /** The ADMIN_TOKEN as a bearer token. */
  admin: Guard;
  /**
   * How much of a camera's stream URL the caller sees (auth/guards.ts `streamUrlViewFor`); never throws
   * for a missing or wrong credential.
   */
  streamUrlView: (req: { headers: Record<string, string | string[] | undefined> }) => Promise<StreamUrlView>;
}

/**
 * `full`: as stored (a key with `ingest`: the worker must open the stream). `redacted`: credentials
 * masked (`redactUrl`; the ADMIN_TOKEN and `cameras:write` keys: they set URLs, they need not read
 * passwords back). `public`: scheme, host, port and path only (`publicUrl`; everyone else).
 */
export type StreamUrlView = 'full' | 'redacted' | 'public';

export interface RouteContext {
  config: Config;
  store: Store;
  bus: EventBus;
  cache: QueryCache;
  detector: Detector | undefined;
  clock: () => Date;
  metrics: Metrics;
  guards: Guards;
  /** Who is calling, for the cache bypass and rate limits (never for access: that is `guards`). */
  callers: CallerIdentifier;
  startedAt: number;
}
