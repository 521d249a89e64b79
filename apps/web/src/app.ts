/**
 * Builds the dashboard's HTTP server (without listening): the built client as static files, a
 * `/config.json` that tells the browser where the API is, `/health` for probes, and a single-page-app
 * fallback so that deep links such as /cameras/<id> load the client.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { WebConfig } from './config.js';

export type WebAppOptions = {
  config: Pick<WebConfig, 'apiPublicUrl' | 'version' | 'logLevel'>;
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
  const app = Fastify({
    logger: { level: config.logLevel },
    genReqId: () => crypto.randomUUID(),
  });

  const headers = planSecurityHeaders(config.apiPublicUrl);
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
