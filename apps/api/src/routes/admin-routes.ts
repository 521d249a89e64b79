import {
  API_KEY_SCOPES,
  API_ROUTES,
  ApiKeyCreate,
  ApiKeyCreated,
  AuthCheckQuery,
  ErrorBody,
  splitScopeList,
} from '@its/contracts';
import { z } from 'zod';
import { issueApiKey } from '../auth/api-key-store.js';
import { notFound } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';

export function registerAdminRoutes(app: ZodApp, ctx: RouteContext) {
  const tags = ['admin'];

  app.get(
    API_ROUTES.authCheck,
    {
      // Authenticate first (401), so a caller without a key learns nothing from the query's validation.
      preValidation: (req) => ctx.guards.require(req, []),
      schema: {
        tags: ['auth'],
        summary:
          'Verify an API key: 204 when valid (and holding `scopes`), 401 when not valid, 403 when a scope is missing',
        description: `\`scopes\`: comma-separated, any of ${API_KEY_SCOPES.join(', ')}. A deployment checks a stored key with the scopes it needs and creates a new one on 401 or 403.`,
        security: [{ bearer: [] }, { apiKey: [] }],
        querystring: AuthCheckQuery,
        response: {
          204: z.null().describe('The key is valid and holds the scopes asked for'),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      await ctx.guards.require(req, splitScopeList(req.query.scopes ?? '').scopes);
      reply.status(204);
      return null;
    },
  );
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };

  app.post(
    API_ROUTES.apiKeys,
    {
      // onRequest: authenticate before the body is even parsed (malformed JSON without a token is a 401).
      onRequest: ctx.guards.admin,
      schema: {
        tags,
        summary: 'Create an API key (Authorization: Bearer <ADMIN_TOKEN>); the key is shown once',
        description: `\`scopes\`: any of ${API_KEY_SCOPES.join(', ')}; default ingest, read (what the vision worker needs). Camera writes need \`cameras:write\`.`,
        security: [{ bearer: [] }],
        body: ApiKeyCreate,
        response: { 201: ApiKeyCreated, ...errors },
      },
    },
    async (req, reply) => {
      const created = await issueApiKey(
        ctx.store.db,
        { name: req.body.name, scopes: req.body.scopes },
        ctx.clock(),
      );
      req.log.info(
        { apiKeyId: created.id, prefix: created.prefix, name: created.name, scopes: created.scopes },
        'api key created',
      );
      reply.status(201);
      return created;
    },
  );

  app.delete(
    `${API_ROUTES.apiKeys}/:id`,
    {
      preValidation: ctx.guards.admin,
      schema: {
        tags,
        summary: 'Revoke an API key',
        security: [{ bearer: [] }],
        params: z.object({ id: z.string().uuid() }),
        response: { 204: z.null().describe('Revoked'), ...errors },
      },
    },
    async (req, reply) => {
      if (!(await ctx.store.repo.revokeApiKey(req.params.id)))
        throw notFound(`params/id: api key "${req.params.id}" not found`);
      reply.status(204);
      return null;
    },
  );
}
