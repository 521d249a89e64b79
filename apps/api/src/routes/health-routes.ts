import { HealthStatus, ReadinessReport, API_ROUTES } from '@its/contracts';
import type { z } from 'zod';
import { describeCause } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';

type CheckEntry = z.infer<typeof ReadinessReport>['checks'][number];

/** 2 s: a readiness probe must answer before the orchestrator's own probe timeout. */
export const CHECK_TIMEOUT_MS = 2000;

async function runCheck(
  name: string,
  fn: () => Promise<string | null>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<CheckEntry> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const failure = await Promise.race([fn(), timeout]);
    return {
      name,
      status: failure ? 'fail' : 'ok',
      durationMs: Math.round(performance.now() - t0),
      reason: failure,
    };
  } catch (err) {
    return {
      name,
      status: 'fail',
      durationMs: Math.round(performance.now() - t0),
      reason: describeCause(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: ZodApp, ctx: RouteContext) {
  app.get(
    API_ROUTES.health,
    { schema: { tags: ['health'], summary: 'Liveness', response: { 200: HealthStatus } } },
    async () => ({
      status: 'ok' as const,
      version: ctx.config.APP_VERSION,
      uptimeS: Math.round((performance.now() - ctx.startedAt) / 100) / 10,
    }),
  );

  app.get(
    API_ROUTES.ready,
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness: database, migrations, Redis',
        response: { 200: ReadinessReport, 503: ReadinessReport },
      },
    },
    async (_req, reply) => {
      const checks = await Promise.all([
        runCheck('database', async () => {
          await ctx.store.db.query('SELECT 1');
          return null;
        }),
        runCheck('migrations', async () => {
          const { current, required } = await ctx.store.schemaVersion();
          return current >= required ? null : `schema at version ${current}, this release needs ${required}`;
        }),
        ctx.bus.kind === 'redis'
          ? runCheck('redis', async () => {
              await ctx.bus.ping();
              return null;
            })
          : Promise.resolve<CheckEntry>({
              name: 'redis',
              status: 'skipped',
              durationMs: 0,
              reason: 'REDIS_URL not set',
            }),
      ]);
      const ok = checks.every((c) => c.status !== 'fail');
      reply.status(ok ? 200 : 503);
      return { status: ok ? ('ok' as const) : ('fail' as const), version: ctx.config.APP_VERSION, checks };
    },
  );

  app.get(
    API_ROUTES.metrics,
    { schema: { tags: ['health'], summary: 'Prometheus metrics' } },
    async (_req, reply) => {
      reply.header('content-type', ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );
}
