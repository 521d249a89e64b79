/**
 * Builds the Fastify app from its dependencies; never listens (server.ts does). Tests call
 * `buildApp(...)` and `app.inject(...)`.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ErrorBody } from '@its/contracts';
import { createGuards } from './auth/guards.js';
import { createCallerIdentifier } from './auth/identify-caller.js';
import { createMemoryCache, createNoCache } from './cache/query-cache.js';
import type { AppDeps, RouteContext, ZodApp } from './context.js';
import { isConnectionError } from './db/db.js';
import { ApiError, DatabaseUnavailableError } from './errors.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { registerRateLimits } from './rate-limit/rate-limits.js';
import { registerWorkerRoutes } from './routes/worker-routes.js';
import { registerAdminRoutes } from './routes/admin-routes.js';
import { registerCameraRoutes } from './routes/camera-routes.js';
import { registerDetectRoutes } from './routes/detect-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerIngestRoutes } from './routes/ingest-routes.js';
import { registerQueryRoutes } from './routes/query-routes.js';
import { registerStreamRoutes } from './routes/stream-routes.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Maps any error to the one error body the API returns. Pure apart from reading the error. */
export function toErrorBody(err: unknown, reqId: string | undefined, bodyLimit: number): ErrorBody {
  const body = (statusCode: number, error: string, message: string): ErrorBody => ({
    statusCode,
    error,
    message,
    reqId,
  });
  if (hasZodFastifySchemaValidationErrors(err)) {
    const context = (err as { validationContext?: string }).validationContext ?? 'body';
    const message = err.validation
      .map((v) => `${context}${v.instancePath === '/' ? '' : v.instancePath}: ${v.message}`)
      .join('; ');
    return body(400, 'Bad Request', message);
  }
  // The cause (host, port, driver message) goes to the log and /health/ready, not to API clients.
  if (err instanceof DatabaseUnavailableError || isConnectionError(err)) {
    return body(503, 'Service Unavailable', 'database unavailable; retry later');
  }
  if (err instanceof ApiError) return body(err.statusCode, err.error, err.message);
  const e = err as Partial<FastifyError> & Error;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return body(
        413,
        'Payload Too Large',
        `body: larger than the limit of ${bodyLimit} bytes (BODY_LIMIT_BYTES)`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return body(415, 'Unsupported Media Type', `headers/content-type: ${e.message}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return body(400, 'Bad Request', 'body: empty, but content-type is application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return body(400, 'Bad Request', `body: invalid JSON (${e.message})`);
  }
  if (e instanceof SyntaxError && e.statusCode === 400)
    return body(400, 'Bad Request', `body: invalid JSON (${e.message})`);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return body(e.statusCode, STATUS_CODES[e.statusCode] ?? 'Error', e.message);
  }
  return body(500, 'Internal Server Error', 'internal error; the request id identifies it in the logs');
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger(config.LOG_LEVEL),
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Keep-alive connections of clients that are not mid-request are closed at shutdown.
    forceCloseConnections: 'idle',
    // A request that reaches us on an open keep-alive connection after SIGTERM was already routed here
    // (the router drains us first): serve it rather than answer 503, or a rolling deploy drops it.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
    // The client address that per-address rate limits count against (TRUST_PROXY behind a proxy);
    // a number of proxies trusts that many hops, as Fastify does with a number.
    trustProxy:
      typeof config.TRUST_PROXY === 'number'
        ? (_address: string, hop: number) => hop < (config.TRUST_PROXY as number)
        : config.TRUST_PROXY,
  }).withTypeProvider<ZodTypeProvider>() as ZodApp;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const metrics = createMetrics({
    version: config.APP_VERSION,
    poolStats: () => deps.store.db.stats(),
    dbKind: deps.store.kind,
  });
  const ctx: RouteContext = {
    config,
    store: deps.store,
    bus: deps.bus,
    cache:
      deps.cache ??
      (config.CACHE_TTL_MS > 0 ? createMemoryCache({ ttlMs: config.CACHE_TTL_MS }) : createNoCache()),
    detector: deps.detector,
    clock,
    metrics,
    startedAt: performance.now(),
    guards: createGuards({
      db: deps.store.db,
      repo: deps.store.repo,
      adminToken: config.ADMIN_TOKEN,
      readRequired: config.API_KEYS_READ_REQUIRED,
      clock,
    }),
    callers: createCallerIdentifier({ db: deps.store.db, adminToken: config.ADMIN_TOKEN }),
  };

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(
      req.routeOptions.url ?? 'unmatched',
      req.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const body = toErrorBody(err, req.id, config.BODY_LIMIT_BYTES);
    if (body.statusCode >= 500) req.log.error({ err }, body.message);
    else req.log.info({ statusCode: body.statusCode, message: body.message }, 'request rejected');
    if (body.statusCode === 503) reply.header('retry-after', '5');
    void reply.status(body.statusCode).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      statusCode: 404,
      error: 'Not Found',
      message: `route ${req.method} ${req.url.split('?')[0]} not found`,
      reqId: req.id,
    });
  });

  const any = config.CORS_ORIGINS.includes('*');
  await app.register(fastifyCors, {
    origin: any ? true : [...config.CORS_ORIGINS],
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: ['x-request-id', 'location', 'retry-after'],
    maxAge: 600,
  });
  // After CORS (a 429 must carry its headers for the dashboard to read it), before every route.
  await registerRateLimits(app as unknown as FastifyInstance, { limits: config, callers: ctx.callers });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'ITS Camera AI API',
        version: config.APP_VERSION,
        description: 'Cameras, ingestion from the vision worker, traffic aggregates, live events.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'API key (or the ADMIN_TOKEN, which passes every scope). Keys carry scopes: ingest, read, cameras:write; a key without the route’s scope gets 403 naming it',
          },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerHealthRoutes(app, ctx);
  registerCameraRoutes(app, ctx);
  registerIngestRoutes(app, ctx);
  registerQueryRoutes(app, ctx);
  registerStreamRoutes(app, ctx);
  registerDetectRoutes(app, ctx);
  registerAdminRoutes(app, ctx);
  registerWorkerRoutes(app, ctx);
  return app as unknown as FastifyInstance;
}
