import { API_ROUTES, ErrorBody, WorkerHeartbeat, WorkerLeases, WorkerList } from '@its/contracts';
import type { RouteContext, ZodApp } from '../context.js';
import { createLeaseStore } from '../store/leases.js';
import { loadCameras } from '../store/repository.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody };

/**
 * The worker tier: camera leases (store/leases.ts) and a view of who serves what. Workers hold no
 * database credentials; they ask for their cameras here with their ingest key.
 */
export function registerWorkerRoutes(app: ZodApp, ctx: RouteContext) {
  const leases = createLeaseStore(ctx.store.db, { ttlMs: ctx.config.LEASE_TTL_MS, loadCameras });
  const tags = ['workers'];

  app.post(
    API_ROUTES.workerHeartbeat,
    {
      onRequest: ctx.guards.scope('ingest'),
      schema: {
        tags,
        summary: 'Register or renew a vision worker and receive its camera leases',
        description:
          'Requires the `ingest` scope. Call every third of `ttlMs` (LEASE_TTL_MS, 15 s by default). The answer lists every ' +
          'lease the worker holds now, with the camera; a camera it runs that is missing there is no longer its own and ' +
          'must stop at once. `handOff` lists leases to stop, flush and send back in `released`. Every item ingested for a ' +
          'camera carries the lease `epoch`.',
        security: [{ bearer: [] }, { apiKey: [] }],
        body: WorkerHeartbeat,
        response: { 200: WorkerLeases, ...errors },
      },
    },
    async (req) => {
      const body = req.body;
      const { answer, freed, finalized } = await leases.heartbeat(
        {
          workerId: body.workerId,
          name: body.name,
          version: body.version ?? null,
          capacity: body.capacity,
          cameraIds: body.cameraIds ?? null,
          held: body.held ?? [],
          released: body.released ?? [],
          leaving: body.leaving ?? false,
        },
        ctx.clock(),
      );
      // A dead session's partial minutes became part of the stored counts.
      if (finalized.length > 0) await ctx.cache.invalidate();
      await Promise.all(finalized.map((data) => ctx.bus.publish({ type: 'aggregate', data })));
      // Workers follow the live stream: one with room takes a freed camera now, not at its next heartbeat.
      await Promise.all(
        freed.map((cameraId) =>
          ctx.bus.publish({ type: 'camera-changed', data: { cameraId, change: 'released' } }),
        ),
      );
      return answer;
    },
  );

  app.get(
    API_ROUTES.workers,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags,
        summary: 'Vision workers seen in the last hour, their cameras and lease ages, and unassigned cameras',
        response: { 200: WorkerList, ...errors },
      },
    },
    async () => leases.list(ctx.clock()),
  );
}
