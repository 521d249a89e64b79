import { API_ROUTES, StreamQuery, type LiveEvent } from '@its/contracts';
import type { OutgoingHttpHeaders } from 'node:http';
import { notFound } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';

/** 1 MiB of unsent events: far beyond what a reading client lags, small enough to never hurt memory. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Formats one Server-Sent Event; the event name is the LiveEvent's type. */
export function formatSse(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * `GET /api/v1/stream`: live events as Server-Sent Events, optionally for one camera. A comment line
 * every SSE_HEARTBEAT_MS keeps proxies from closing an idle stream. On shutdown every stream is ended
 * cleanly (preClose) so the server can close without waiting for clients that never leave.
 */
export function registerStreamRoutes(app: ZodApp, ctx: RouteContext) {
  const open = new Set<() => void>();

  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    API_ROUTES.stream,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags: ['live'],
        summary: 'Live events (Server-Sent Events); event names: crossing, aggregate, camera-status',
        querystring: StreamQuery,
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      const { cameraId } = req.query;
      if (cameraId && !(await ctx.store.repo.cameraExists(cameraId))) {
        throw notFound(`querystring/cameraId: camera "${cameraId}" not found`);
      }
      reply.hijack();
      const res = reply.raw;
      // Hijacked replies skip Fastify's header handling: carry over what hooks (CORS) already set.
      const headers: OutgoingHttpHeaders = {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
      };
      res.writeHead(200, headers);
      res.write('retry: 3000\n: connected\n\n');
      ctx.metrics.sseClients.inc();

      const unsubscribe = ctx.bus.subscribe((event) => {
        if (cameraId && event.data.cameraId !== cameraId) return;
        // A client that stopped reading would otherwise grow this buffer without bound.
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          req.log.warn(
            { buffered: res.writableLength },
            'dropping a live-stream client that does not keep up',
          );
          res.destroy();
          return;
        }
        res.write(formatSse(event));
      });
      const heartbeat = setInterval(
        () => res.write(`: heartbeat ${ctx.clock().toISOString()}\n\n`),
        ctx.config.SSE_HEARTBEAT_MS,
      );
      const end = () => {
        if (!res.writableEnded) res.end(': server shutting down\n\n');
      };
      open.add(end);
      res.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(end);
        ctx.metrics.sseClients.dec();
      });
    },
  );
}
