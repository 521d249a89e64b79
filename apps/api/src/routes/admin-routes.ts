import { API_ROUTES, ApiKeyCreate, ApiKeyCreated, ErrorBody } from '@its/contracts';
import { z } from 'zod';
import { createApiKey } from '../auth/api-keys.js';
import { notFound } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';

export function registerAdminRoutes(app: ZodApp, ctx: RouteContext) {
  const tags = ['admin'];

  app.get(
    API_ROUTES.authCheck,
    {
      preValidation: ctx.guards.apiKey,
      schema: {
        tags: ['auth'],
        summary: 'Verify an API key: 204 when valid, 401 otherwise',
        security: [{ bearer: [] }, { apiKey: [] }],
        response: { 204: z.null().describe('The key is valid'), 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (_req, reply) => {
      reply.status(204);
      return null;
    },
  );
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };

  app.post(
    API_ROUTES.apiKeys,
    {
      preValidation: ctx.guards.admin,
      schema: {
        tags,
        summary: 'Create an API key (Authorization: Bearer <ADMIN_TOKEN>); the key is shown once',
        security: [{ bearer: [] }],
        body: ApiKeyCreate,
        response: { 201: ApiKeyCreated, ...errors },
      },
    },
    async (req, reply) => {
      const created = await createApiKey(ctx.store.repo, req.body.name, ctx.clock());
      req.log.info({ apiKeyId: created.id, prefix: created.prefix, name: created.name }, 'api key created');
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
