import { API_ROUTES, ErrorBody, StreamQuery } from '@its/contracts';
import type { OutgoingHttpHeaders } from 'node:http';
import { ApiError, notFound } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';
import { createLiveLog, type LiveEntry } from '../events/live-log.js';
import { createSseWriter, type SseWriter } from '../events/sse-writer.js';

export { formatSse } from '../events/live-log.js';

interface StreamClient {
  cameraId: string | undefined;
  writer: SseWriter;
}

/**
 * The events to replay, newest last, at most half the client's buffer: a replay must never be what
 * drops the client it is for (it would reconnect with the same id, and again). `trimmed`: some missed
 * events did not fit.
 */
export function fitReplay(
  entries: readonly LiveEntry[],
  cameraId: string | undefined,
  maxBytes: number,
): { entries: LiveEntry[]; trimmed: boolean } {
  const picked: LiveEntry[] = [];
  let bytes = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (cameraId && e.cameraId !== cameraId) continue;
    if (bytes + e.bytes > maxBytes) return { entries: picked.reverse(), trimmed: true };
    bytes += e.bytes;
    picked.push(e);
  }
  return { entries: picked.reverse(), trimmed: false };
}

/**
 * `GET /api/v1/stream`: live events as Server-Sent Events, optionally for one camera.
 *
 * - One bus subscription per app, not per client: each event is given an id and its text once
 *   (live-log.ts) and handed to every client's bounded writer (sse-writer.ts). A client that does not
 *   keep up is dropped alone, at once and with one log line; the others, fast ones included, get every
 *   event of a batch of any size below SSE_CLIENT_BUFFER_BYTES.
 * - At most SSE_MAX_CLIENTS streams at once; one more is a 503 with Retry-After.
 * - Each event has an `id:`; a client reconnecting with `Last-Event-ID` first gets what it missed
 *   from the last SSE_REPLAY_MAX_EVENTS events (none older than SSE_REPLAY_MAX_AGE_MS). When that
 *   cannot be complete, a comment says so (`: replay incomplete …` / `: replay unavailable …`).
 * - A comment every SSE_HEARTBEAT_MS keeps proxies from closing an idle stream. On shutdown every
 *   stream is ended cleanly (preClose), so the server never waits for clients that never leave.
 */
export function registerStreamRoutes(app: ZodApp, ctx: RouteContext) {
  const { config } = ctx;
  const open = new Set<() => void>();
  const clients = new Set<StreamClient>();
  /** Streams open or being opened: the cap counts a request from its check on. */
  let active = 0;
  const log = createLiveLog({
    maxEvents: config.SSE_REPLAY_MAX_EVENTS,
    maxAgeMs: config.SSE_REPLAY_MAX_AGE_MS,
    now: () => ctx.clock().getTime(),
  });
  const unsubscribe = ctx.bus.subscribe((event) => {
    const entry = log.append(event);
    for (const c of clients) if (!c.cameraId || c.cameraId === entry.cameraId) c.writer.send(entry);
  });

  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.addHook('onClose', async () => unsubscribe());

  app.get(
    API_ROUTES.stream,
    {
      preValidation: ctx.guards.read,
      schema: {
        tags: ['live'],
        summary: 'Live events (Server-Sent Events); event names: crossing, aggregate, camera-status',
        description:
          'Each event has an `id:`; reconnect with `Last-Event-ID` to receive the events missed meanwhile ' +
          `(the last ${config.SSE_REPLAY_MAX_EVENTS} events, at most ${config.SSE_REPLAY_MAX_AGE_MS / 1000} s old). ` +
          `At most ${config.SSE_MAX_CLIENTS} streams at once (503 with Retry-After beyond); a client that ` +
          `stops reading is disconnected once ${config.SSE_CLIENT_BUFFER_BYTES} bytes wait for it.`,
        querystring: StreamQuery,
        produces: ['text/event-stream'],
        response: { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      if (active >= config.SSE_MAX_CLIENTS) {
        ctx.metrics.sseRefused.inc();
        // The error handler adds Retry-After to every 503.
        throw new ApiError(
          'unavailable',
          `live stream: ${config.SSE_MAX_CLIENTS} clients are connected, the most this instance serves (SSE_MAX_CLIENTS); retry later`,
        );
      }
      active++;
      let opened = false;
      try {
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
        ctx.metrics.sseClients.inc();

        const client: StreamClient = {
          cameraId,
          writer: createSseWriter({
            sink: res,
            maxBufferedBytes: config.SSE_CLIENT_BUFFER_BYTES,
            onDrop(bufferedBytes) {
              // Unsubscribed before anything else happens: no later event reaches it, nor logs again.
              clients.delete(client);
              ctx.metrics.sseDropped.inc();
              req.log.warn(
                { bufferedBytes, limit: config.SSE_CLIENT_BUFFER_BYTES },
                'dropping a live-stream client that does not keep up',
              );
            },
          }),
        };
        client.writer.send('retry: 3000\n: connected\n\n');
        // Replay and subscription in one synchronous step: no event can fall between them.
        const lastEventId = req.headers['last-event-id'];
        if (typeof lastEventId === 'string' && lastEventId.trim() !== '') {
          const answer = log.since(lastEventId);
          if (answer.kind === 'unknown') {
            client.writer.send(
              ': replay unavailable: Last-Event-ID is not from this API instance’s current run; reload to catch up\n\n',
            );
          } else {
            const fit = fitReplay(answer.entries, cameraId, config.SSE_CLIENT_BUFFER_BYTES / 2);
            if (!answer.complete || fit.trimmed)
              client.writer.send(
                ': replay incomplete: some events since Last-Event-ID are no longer kept; reload to catch up\n\n',
              );
            for (const e of fit.entries) client.writer.send(e);
          }
        }
        clients.add(client);

        const heartbeat = setInterval(
          () => client.writer.comment(`heartbeat ${ctx.clock().toISOString()}`),
          config.SSE_HEARTBEAT_MS,
        );
        const end = () => {
          client.writer.close();
          if (!res.writableEnded) res.end(': server shutting down\n\n');
        };
        open.add(end);
        let cleaned = false;
        const cleanUp = () => {
          if (cleaned) return;
          cleaned = true;
          clearInterval(heartbeat);
          clients.delete(client);
          client.writer.close();
          open.delete(end);
          active--;
          ctx.metrics.sseClients.dec();
        };
        res.on('close', cleanUp);
        // A client that left while the camera was looked up: its 'close' has already happened.
        if (res.destroyed || req.raw.socket.destroyed) cleanUp();
        opened = true;
      } catch (err) {
        if (reply.sent) reply.raw.destroy();
        throw err;
      } finally {
        if (!opened) active--;
      }
    },
  );
}
