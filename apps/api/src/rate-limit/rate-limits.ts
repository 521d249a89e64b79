/**
 * Request rate limits (@fastify/rate-limit, one-minute fixed windows, counted in this process): per API
 * key for callers with a valid key or the ADMIN_TOKEN, per client address for everyone else — a made-up
 * key counts against its address, never buys a fresh bucket. Health, readiness and metrics are never
 * limited: orchestrators and Prometheus poll them, and a liveness probe answered 429 restarts a healthy
 * API. Over the limit: 429 with Retry-After (seconds to the end of the window) and the usual error body.
 */
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_ROUTES } from '@its/contracts';
import type { Caller, CallerIdentifier } from '../auth/identify-caller.js';
import type { Config } from '../config.js';
import { ApiError } from '../errors.js';

/** Polled by orchestrators and Prometheus: never limited. */
export const UNLIMITED_ROUTES: readonly string[] = [API_ROUTES.health, API_ROUTES.ready, API_ROUTES.metrics];

export type RateLimitSettings = Pick<Config, 'RATE_LIMIT_ANONYMOUS_PER_MIN' | 'RATE_LIMIT_PER_KEY_PER_MIN'>;

export interface RateLimitPlan {
  /** The bucket the request counts against: `key:<id>`, `admin` or `address:<ip>`. */
  bucket: string;
  /** Requests per minute in that bucket. */
  max: number;
  /** For the 429 message and the setting that raises the limit. */
  who: string;
  setting: keyof RateLimitSettings;
}

/**
 * Pure: the bucket and limit a request counts against, or undefined when it is not limited (a health
 * route, or a limit set to 0). `address` is the client address as the limiter normalises it.
 */
export function planRateLimit(
  request: { route: string | undefined; caller: Caller; address: string },
  limits: RateLimitSettings,
): RateLimitPlan | undefined {
  if (request.route !== undefined && UNLIMITED_ROUTES.includes(request.route)) return undefined;
  const { caller } = request;
  const plan: RateLimitPlan =
    caller.kind === 'anonymous'
      ? {
          bucket: `address:${request.address}`,
          max: limits.RATE_LIMIT_ANONYMOUS_PER_MIN,
          who: `client address ${request.address} (no valid API key)`,
          setting: 'RATE_LIMIT_ANONYMOUS_PER_MIN',
        }
      : {
          bucket: caller.kind === 'admin' ? 'admin' : `key:${caller.id}`,
          max: limits.RATE_LIMIT_PER_KEY_PER_MIN,
          who: caller.kind === 'admin' ? 'the ADMIN_TOKEN' : 'this API key',
          setting: 'RATE_LIMIT_PER_KEY_PER_MIN',
        };
  return plan.max > 0 ? plan : undefined;
}

/** Registers the limiter; routes registered afterwards are limited (register it before them). */
export async function registerRateLimits(
  app: FastifyInstance,
  deps: { limits: RateLimitSettings; callers: CallerIdentifier },
): Promise<void> {
  if (deps.limits.RATE_LIMIT_ANONYMOUS_PER_MIN === 0 && deps.limits.RATE_LIMIT_PER_KEY_PER_MIN === 0) return;
  const plans = new WeakMap<FastifyRequest, RateLimitPlan>();
  await app.register(fastifyRateLimit, {
    timeWindow: 60_000,
    // Distinct buckets kept; the least recently used are forgotten first (a flood of addresses).
    cache: 10_000,
    keyGenerator: async (req) => {
      // A health route is decided before any credential is looked at: a probe costs no key look-up.
      const route = req.routeOptions.url;
      if (route !== undefined && UNLIMITED_ROUTES.includes(route)) return 'unlimited';
      const plan = planRateLimit(
        { route, caller: await deps.callers.identify(req), address: normalizeIP(req.ip) },
        deps.limits,
      );
      if (!plan) return 'unlimited';
      plans.set(req, plan);
      return plan.bucket;
    },
    allowList: (req) => !plans.has(req),
    max: (req) => plans.get(req)?.max ?? 0,
    errorResponseBuilder: (req, ctx) => {
      const plan = plans.get(req);
      return new ApiError(
        'too-many-requests',
        `rate limit: more than ${ctx.max} requests a minute from ${plan?.who ?? 'this client'}; retry in ${ctx.after}` +
          (plan ? ` (the limit is ${plan.setting})` : ''),
      );
    },
  });
}
