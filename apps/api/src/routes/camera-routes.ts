import { randomUUID } from 'node:crypto';
import { publicUrl, redactUrl } from '@its/core';
import {
  API_ROUTES,
  Camera,
  cameraInputSchema,
  cameraPatchSchema,
  ErrorBody,
  Page,
  PageQuery,
} from '@its/contracts';
import { z } from 'zod';
import { notFound } from '../errors.js';
import type { RouteContext, StreamUrlView, ZodApp } from '../context.js';
import type { NewCamera } from '../store/repository.js';

const IdParams = z.object({ id: z.string().uuid() });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
/** Camera writes: a key with the cameras:write scope, or the ADMIN_TOKEN (a worker's ingest key gets 403). */
const writeAuth: { security: Record<string, string[]>[]; description: string } = {
  security: [{ bearer: [] }, { apiKey: [] }],
  description: 'Requires an API key with the `cameras:write` scope, or the ADMIN_TOKEN.',
};
const missing = (id: string) => notFound(`params/id: camera "${id}" not found`);
// Writes authenticate in onRequest, before the body is parsed: malformed JSON without a key is a 401,
// not a 400 describing the parse, and nothing an unauthenticated caller sends is parsed at all.

/**
 * What a camera writer (`cameras:write`, the ADMIN_TOKEN) sees of a stream URL: `rtsp://user:pass@host/x`
 * → `rtsp://***@host/x`, credential query values masked too; a URL without secrets is unchanged.
 */
export function maskStreamUrl(url: string): string {
  return redactUrl(url);
}

/** A stream URL as `view` shows it (see StreamUrlView): as stored, redacted, or scheme/host/port/path. */
export function showStreamUrl(url: string, view: StreamUrlView): string {
  return view === 'full' ? url : view === 'redacted' ? maskStreamUrl(url) : publicUrl(url);
}
const forCaller = <T extends { streamUrl: string }>(camera: T, view: StreamUrlView): T =>
  view === 'full' ? camera : { ...camera, streamUrl: showStreamUrl(camera.streamUrl, view) };

export function registerCameraRoutes(app: ZodApp, ctx: RouteContext) {
  const { repo } = ctx.store;
  const tags = ['cameras'];
  // file:// stream URLs make the worker read a file of its own machine: only where a deployment says so.
  const allowFile = ctx.config.ALLOW_FILE_STREAM_URLS;
  const CameraInput = cameraInputSchema({ allowFile });
  const CameraPatch = cameraPatchSchema({ allowFile });

  app.post(
    API_ROUTES.cameras,
    {
      onRequest: ctx.guards.scope('cameras:write'),
      schema: {
        tags,
        summary: 'Create a camera',
        ...writeAuth,
        body: CameraInput,
        response: { 201: Camera, ...errors },
      },
    },
    async (req, reply) => {
      const camera = await repo.createCamera(randomUUID(), req.body as NewCamera, ctx.clock());
      await ctx.cache.invalidate();
      await ctx.bus.publish({ type: 'camera-changed', data: { cameraId: camera.id, change: 'created' } });
      reply.status(201).header('location', API_ROUTES.camera(camera.id));
      return forCaller(camera, await ctx.guards.streamUrlView(req));
    },
  );

  app.get(
    API_ROUTES.cameras,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags,
        summary: 'List cameras (paginated)',
        querystring: PageQuery,
        response: { 200: Page(Camera), ...errors },
      },
    },
    async (req) => {
      const { items, total } = await repo.listCameras(req.query);
      // Stream URLs usually carry credentials: only the worker's (ingest) key sees them.
      const view = await ctx.guards.streamUrlView(req);
      return {
        items: items.map((c) => forCaller(c, view)),
        total,
        limit: req.query.limit,
        offset: req.query.offset,
      };
    },
  );

  app.get(
    `${API_ROUTES.cameras}/:id`,
    {
      preValidation: ctx.guards.read,
      schema: { tags, summary: 'Get a camera', params: IdParams, response: { 200: Camera, ...errors } },
    },
    async (req) => {
      const camera = await repo.getCamera(req.params.id);
      if (!camera) throw missing(req.params.id);
      return forCaller(camera, await ctx.guards.streamUrlView(req));
    },
  );

  app.patch(
    `${API_ROUTES.cameras}/:id`,
    {
      onRequest: ctx.guards.scope('cameras:write'),
      schema: {
        tags,
        summary: 'Update some of a camera’s fields',
        ...writeAuth,
        params: IdParams,
        body: CameraPatch,
        response: { 200: Camera, ...errors },
      },
    },
    async (req) => {
      const camera = await repo.updateCamera(req.params.id, req.body, ctx.clock());
      if (!camera) throw missing(req.params.id);
      await ctx.cache.invalidate();
      // Its lease holder listens on the live stream and re-reads it at once.
      await ctx.bus.publish({ type: 'camera-changed', data: { cameraId: camera.id, change: 'updated' } });
      return forCaller(camera, await ctx.guards.streamUrlView(req));
    },
  );

  app.delete(
    `${API_ROUTES.cameras}/:id`,
    {
      onRequest: ctx.guards.scope('cameras:write'),
      schema: {
        tags,
        summary: 'Delete a camera and its data',
        ...writeAuth,
        params: IdParams,
        response: { 204: z.null().describe('Deleted'), ...errors },
      },
    },
    async (req, reply) => {
      if (!(await repo.deleteCamera(req.params.id))) throw missing(req.params.id);
      await ctx.cache.invalidate();
      await ctx.bus.publish({ type: 'camera-changed', data: { cameraId: req.params.id, change: 'deleted' } });
      reply.status(204);
      return null;
    },
  );
}
