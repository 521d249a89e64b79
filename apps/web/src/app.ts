/**
 * Builds the dashboard's HTTP server (without listening): the built client as static files, a
 * `/config.json` that tells the browser where the API is, `/health` for probes, and a single-page-app
 * fallback so that deep links such as /cameras/<id> load the client.
 */
import { existsSync, readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { WebConfig } from './config.js';

export type WebAppOptions = {
  config: Pick<WebConfig, 'apiPublicUrl' | 'version' | 'logLevel'> &
    /** Absent: source maps are not served (the safe default for a caller that does not say). */
    Partial<Pick<WebConfig, 'serveSourceMaps'>>;
  /** The Vite build output (index.html + assets/). */
  publicDir: string;
  /** Seconds since start, for /health; passed in so tests need no clock. */
  uptimeSeconds?: () => number;
};

/** What the browser reads at start-up; the client validates the same shape. */
export type ClientConfig = { apiBaseUrl: string; version: string };

// Hashed file names under /assets change whenever their content does, so they may be cached forever;
// index.html must always be revalidated so a deployment is picked up on the next load.
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Security headers for every response; the API origin is the only other place the page may call. */
export function planSecurityHeaders(apiBaseUrl: string): Record<string, string> {
  const apiOrigin = new URL(apiBaseUrl).origin;
  return {
    'content-security-policy': [
      "default-src 'self'",
      `connect-src 'self' ${apiOrigin}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

/**
 * The raw HTTP answer to a request Node's parser refused (malformed request line or header, a header
 * too large, a request too slow), which never reaches Fastify and its hooks: the same codes and body
 * as Fastify's own answer, with the security headers. Undefined when there is no one to answer.
 */
export function planClientErrorResponse(
  error: NodeJS.ErrnoException,
  headers: Record<string, string>,
): string | undefined {
  if (error.code === 'ECONNRESET') return undefined;
  const [status, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Client Timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Exceeded maximum allowed HTTP header size']
        : [400, 'Client Error'];
  const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    'connection: close',
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Fastify's own 400 (an undecodable URL), with the security headers its hooks would have added. */
function answerFrameworkError(
  error: FastifyError,
  reply: FastifyReply,
  headers: Record<string, string>,
): void {
  const statusCode = error.statusCode ?? 400;
  void reply
    .headers(headers)
    .code(statusCode)
    .send({ statusCode, error: STATUS_CODES[statusCode], code: error.code, message: error.message });
}

/** Source maps (`*.map`) publish the client's original source: not served unless asked for. */
export function isSourceMap(path: string): boolean {
  return /\.map$/i.test(path.split('?')[0] ?? '');
}

/** True when a request for `url` should get index.html (a client route) rather than a 404. */
export function isClientRoute(method: string, url: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?')[0] ?? '/';
  // A path with a file extension is a missing asset, not a page: a 404 tells the truth.
  if (/\.[a-z0-9]+$/i.test(path)) return false;
  return !accept || accept.includes('text/html') || accept.includes('*/*');
}

export async function buildWebApp(opts: WebAppOptions): Promise<FastifyInstance> {
  const { config, publicDir } = opts;
  const uptime = opts.uptimeSeconds ?? (() => process.uptime());
  const headers = planSecurityHeaders(config.apiPublicUrl);
  const app = Fastify({
    logger: { level: config.logLevel },
    genReqId: () => crypto.randomUUID(),
    // A URL Fastify cannot decode (`/%zz`) is answered before any route or hook: with the headers too.
    // (Fastify types this reply with the route generics it has none of here: it is a plain reply.)
    frameworkErrors: (error, _req, reply) =>
      answerFrameworkError(error, reply as unknown as FastifyReply, headers),
    // A request Node's HTTP parser refuses never reaches Fastify: the raw answer carries them as well.
    clientErrorHandler: (error, socket) => {
      const response = socket.destroyed ? undefined : planClientErrorResponse(error, headers);
      if (response !== undefined && socket.writable) socket.write(response);
      socket.destroy(error);
    },
  });

  // Every response Node writes for this server starts with the headers, also those Fastify writes
  // without its hooks (a 503 while closing, a 414): prepended, so they are set before Fastify runs.
  app.server.prependListener('request', (_req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return payload;
  });

  const clientConfig: ClientConfig = { apiBaseUrl: config.apiPublicUrl, version: config.version };
  app.get('/config.json', async (_req, reply) => {
    reply.header('cache-control', REVALIDATE);
    return clientConfig;
  });

  app.get('/health', async () => ({
    status: 'ok',
    service: 'web',
    version: config.version,
    uptimeS: Math.round(uptime()),
  }));

  const indexPath = join(publicDir, 'index.html');
  const built = existsSync(indexPath);
  if (built) {
    // Read once: it is small and only changes with a new build, which means a new process.
    const indexHtml = readFileSync(indexPath, 'utf8');
    await app.register(fastifyStatic, {
      root: publicDir,
      index: false,
      cacheControl: false,
      // Refused like a missing file (a JSON 404): the maps would publish the client's source.
      allowedPath: (path) => config.serveSourceMaps === true || !isSourceMap(path),
      setHeaders: (reply, filePath) => {
        reply.header(
          'cache-control',
          filePath.startsWith(join(publicDir, 'assets')) ? IMMUTABLE : REVALIDATE,
        );
      },
    });
    const sendIndex = (reply: FastifyReply) =>
      reply.header('cache-control', REVALIDATE).type('text/html; charset=utf-8').send(indexHtml);
    app.get('/', async (_req, reply) => sendIndex(reply));
    app.setNotFoundHandler(async (req, reply) => {
      if (isClientRoute(req.method, req.url, req.headers.accept)) return sendIndex(reply);
      return reply
        .code(404)
        .send({ statusCode: 404, error: 'Not Found', message: `no such file: ${req.url.split('?')[0]}` });
    });
  } else {
    app.log.warn({ publicDir }, 'dashboard client is not built; serving a notice instead');
    app.setNotFoundHandler(async (req, reply) => {
      const message = `the dashboard client is not built (no ${indexPath}); run: npm run build -w @its/web`;
      if (isClientRoute(req.method, req.url, req.headers.accept)) {
        return reply.code(503).type('text/plain; charset=utf-8').send(message);
      }
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message });
    });
  }

  return app;
}
