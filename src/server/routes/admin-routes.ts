/** Health, models, and (with accounts) users and tokens. */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http-errors.ts';
import { errorSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

export function adminRoutes(app: FastifyInstance, studio: Studio): void {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['server'],
        summary: 'Is the server up; which queue runs jobs',
        response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, queue: { type: 'string' } } } },
      },
    },
    async () => ({
      ok: true,
      queue: studio.queue.kind,
    }),
  );

  app.get(
    '/api/models',
    {
      schema: {
        tags: ['server'],
        summary: 'Models to generate with, by id',
        response: {
          200: {
            type: 'object',
            properties: { default: { type: 'string' }, models: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } } },
          },
        },
      },
    },
    async () => ({
      default: studio.models.defaultId,
      models: studio.models.list().map((m) => ({ id: m.id })),
    }),
  );

  app.get(
    '/api/me',
    {
      schema: {
        tags: ['users'],
        summary: 'Who you are',
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } } } },
      },
    },
    async (req) => ({
      id: req.user.id,
      name: req.user.name,
      role: req.user.role,
    }),
  );

  app.post<{ Body: { name: string; role?: 'admin' | 'user'; password?: string } }>(
    '/api/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Admin: create an account; answers with its first API token (shown once)',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', maxLength: 64 },
            role: { type: 'string', enum: ['admin', 'user'] },
            password: { type: 'string', minLength: 8, maxLength: 200 },
          },
        },
        response: {
          201: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, token: { type: 'string' } } },
          400: errorSchema,
          403: errorSchema,
        },
      },
    },
    async (req, reply) => {
      if (req.user.role !== 'admin') throw new HttpError(403, 'only an admin can create accounts');
      const user = studio.users.create(req.body.name, {
        ...(req.body.role ? { role: req.body.role } : {}),
        ...(req.body.password ? { password: req.body.password } : {}),
      });
      return reply.status(201).send({ ...user, token: studio.users.createToken(user.id, 'created by admin') });
    },
  );

  app.post(
    '/api/tokens',
    {
      schema: {
        tags: ['users'],
        summary: 'A new API token for yourself (shown once)',
        response: { 201: { type: 'object', properties: { token: { type: 'string' } } } },
      },
    },
    async (req, reply) => reply.status(201).send({ token: studio.users.createToken(req.user.id, 'self') }),
  );
}
