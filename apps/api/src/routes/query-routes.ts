import {
  AggregateQuery,
  AggregateSeries,
  API_ROUTES,
  ErrorBody,
  LatestCounts,
  LatestCountsQuery,
  Totals,
  TotalsQuery,
} from '@its/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cacheKey } from '../cache/query-cache.js';
import { badRequest, notFound } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';
import { parseGroupBy } from '../store/aggregate-query.js';
import { checkAggregateRowLimit } from '../store/aggregate-row-limit.js';
import { stringifyAggregateSeries } from './aggregate-json.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody };

export function registerQueryRoutes(app: ZodApp, ctx: RouteContext) {
  const { repo } = ctx.store;
  const tags = ['queries'];
  /**
   * Serves from the cache unless an authenticated caller (an API key or the ADMIN_TOKEN) sends
   * `Cache-Control: no-cache`; says which in X-Cache. An anonymous no-cache is served like any read:
   * otherwise every anonymous request could make the database work.
   */
  const cached = async <T>(
    req: FastifyRequest,
    reply: FastifyReply,
    compute: () => Promise<T>,
  ): Promise<T> => {
    if (
      /\bno-cache\b/i.test(req.headers['cache-control'] ?? '') &&
      (await ctx.callers.identify(req)).kind !== 'anonymous'
    ) {
      reply.header('x-cache', 'bypass');
      return compute();
    }
    const { value, hit } = await ctx.cache.fetch(
      cacheKey(req.routeOptions.url ?? req.url, req.query),
      compute,
    );
    reply.header('x-cache', hit ? 'hit' : 'miss');
    return value;
  };
  const assertCamera = async (cameraId: string | undefined) => {
    if (cameraId && !(await repo.cameraExists(cameraId))) {
      throw notFound(`querystring/cameraId: camera "${cameraId}" not found`);
    }
  };

  app.get(
    API_ROUTES.aggregates,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags,
        summary: 'Interval aggregates bucketed by 1m, 15m, 1h or 1d over [from, to)',
        description:
          'Buckets are aligned to UTC (epoch). volume is summed. occupancyPct is the mean occupancy over the ' +
          'bucket’s countable minutes and its series: Σ stored occupancy / countable minutes / series, where a ' +
          'minute without a stored interval counts as 0 %; countable minutes are the bucket’s minutes that start ' +
          'within [from, to) and have ended by the time of the query (an edge bucket uses only its minutes inside ' +
          'the range, the current bucket only its elapsed minutes), and series are the camera × lane × class ' +
          'present in the group’s bucket. meanSpeedKmh and p85SpeedKmh are volume-weighted means of the ' +
          'intervals’ values (p85 is therefore an approximation of the true 85th percentile).',
        querystring: AggregateQuery,
        response: { 200: AggregateSeries, ...errors },
      },
    },
    async (req, reply) => {
      const q = req.query;
      // A refusal is cached like an answer: a flood repeating a refused query costs no database work.
      const answer = await cached(req, reply, async (): Promise<{ json: string } | { refused: string }> => {
        await assertCamera(q.cameraId);
        const filter = {
          cameraId: q.cameraId,
          lane: q.lane,
          class: q.class,
          from: q.from,
          to: q.to,
          bucket: q.bucket,
          groupBy: parseGroupBy(q.groupBy),
        };
        const limit = await checkAggregateRowLimit(ctx.store.db, filter, ctx.config.AGGREGATE_MAX_ROWS);
        if (!limit.ok) return { refused: limit.message };
        const buckets = await repo.queryAggregates({ ...filter, now: ctx.clock() });
        return {
          json: await stringifyAggregateSeries({ bucket: q.bucket, from: q.from, to: q.to, buckets }),
        };
      });
      if ('refused' in answer) throw badRequest(answer.refused);
      // Already JSON (checked against AggregateSeries): Fastify sends a string with a JSON type as is.
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(answer.json);
    },
  );

  app.get(
    API_ROUTES.latestCounts,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags,
        summary: 'Each camera’s latest stored interval, by lane and class',
        querystring: LatestCountsQuery,
        response: { 200: LatestCounts, ...errors },
      },
    },
    async (req, reply) =>
      cached(req, reply, async () => {
        await assertCamera(req.query.cameraId);
        return { items: await repo.latestCounts(req.query.cameraId) };
      }),
  );

  app.get(
    API_ROUTES.totals,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags,
        summary: 'Totals over stored intervals and crossings, optionally within [from, to)',
        querystring: TotalsQuery,
        response: { 200: Totals, ...errors },
      },
    },
    async (req, reply) =>
      cached(req, reply, async () => {
        await assertCamera(req.query.cameraId);
        return repo.totals(req.query);
      }),
  );
}
