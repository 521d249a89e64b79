import {
  AggregateBatch,
  API_ROUTES,
  CameraStatusReport,
  CrossingEventBatch,
  ErrorBody,
  findIngestTimeIssues,
  IngestResult,
  MAX_INGEST_AHEAD_MS,
  type LiveEvent,
} from '@its/contracts';
import { badRequest } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';
import type { StatusUpdate } from '../store/repository.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  503: ErrorBody,
};
const ingestAuth: { security: Record<string, string[]>[]; description: string } = {
  security: [{ bearer: [] }, { apiKey: [] }],
  description:
    'Requires an API key with the `ingest` scope (the vision worker’s), or the ADMIN_TOKEN. Timestamps must ' +
    `lie between 2000-01-01 and ${MAX_INGEST_AHEAD_MS / 60_000} minutes ahead of the API's clock ` +
    '(MAX_INGEST_AHEAD_MS); a batch with one outside is a 400 naming it, which the worker drops rather than retries. ' +
    'An item stamped with a lease `epoch` timed at or after that lease ended is a 409 naming it: the worker drops ' +
    'the batch and the camera (another worker may hold it).',
};

/** The clock-dependent half of validation (the schema did the rest): 400 naming every field out of range. */
function assertIngestTimes(batch: Parameters<typeof findIngestTimeIssues>[0], now: Date): void {
  const issues = findIngestTimeIssues(batch, now.getTime());
  if (issues.length > 0) throw badRequest(issues.map((i) => `body/${i}`).join('; '));
}

/**
 * Ingestion from the vision worker. Each batch is committed in one transaction before the 2xx, so an
 * accepted batch is never lost; live events are published only after the commit.
 * `accepted` counts items newly stored; `duplicates` counts items whose key was already stored
 * (ignored for events, replaced for aggregates), so `accepted + duplicates` is the batch size.
 */
export function registerIngestRoutes(app: ZodApp, ctx: RouteContext) {
  // Routes authenticate in onRequest, before the body is parsed: no body is read for a caller without a key.
  const { repo } = ctx.store;
  const tags = ['ingestion'];
  /** After the commit: drop cached reads, then tell live viewers. */
  const publishAll = async (events: LiveEvent[]) => {
    await ctx.cache.invalidate();
    await Promise.all(events.map((e) => ctx.bus.publish(e)));
  };

  app.post(
    API_ROUTES.ingestEvents,
    {
      onRequest: ctx.guards.scope('ingest'),
      schema: {
        tags,
        summary: 'Ingest line-crossing events (idempotent on event id)',
        ...ingestAuth,
        body: CrossingEventBatch,
        response: { 200: IngestResult, ...errors },
      },
    },
    async (req) => {
      assertIngestTimes(req.body, ctx.clock());
      const result = await repo.insertEvents(req.body.events, ctx.clock());
      ctx.metrics.countIngest('events', result.accepted, result.duplicates);
      await publishAll(result.stored.map((data) => ({ type: 'crossing', data })));
      return { accepted: result.accepted, duplicates: result.duplicates };
    },
  );

  app.post(
    API_ROUTES.ingestAggregates,
    {
      onRequest: ctx.guards.scope('ingest'),
      schema: {
        tags,
        summary:
          'Ingest 60-second interval aggregates (per counting session: a re-send replaces its session’s figures, sessions add up)',
        ...ingestAuth,
        body: AggregateBatch,
        response: { 200: IngestResult, ...errors },
      },
    },
    async (req) => {
      assertIngestTimes(req.body, ctx.clock());
      const result = await repo.upsertAggregates(req.body.aggregates, ctx.clock());
      ctx.metrics.countIngest('aggregates', result.accepted, result.duplicates);
      await publishAll(result.stored.map((data) => ({ type: 'aggregate', data })));
      return { accepted: result.accepted, duplicates: result.duplicates };
    },
  );

  app.post(
    API_ROUTES.ingestStatus,
    {
      onRequest: ctx.guards.scope('ingest'),
      schema: {
        tags,
        summary: 'Report camera status (worker heartbeat)',
        ...ingestAuth,
        body: CameraStatusReport,
        response: { 200: IngestResult, ...errors },
      },
    },
    async (req) => {
      const updates: StatusUpdate[] = req.body.cameras.map((c) => ({
        cameraId: c.cameraId,
        state: c.state,
        reason: c.reason ?? null,
        fps: c.fps ?? null,
        epoch: c.epoch,
      }));
      const stored = await repo.updateStatuses(updates, ctx.clock());
      ctx.metrics.countIngest('status', stored.length, updates.length - stored.length);
      await publishAll(
        stored.map((u) => ({
          type: 'camera-status',
          data: { cameraId: u.cameraId, state: u.state, reason: u.reason },
        })),
      );
      return { accepted: stored.length, duplicates: updates.length - stored.length };
    },
  );
}
