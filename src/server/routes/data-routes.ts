/** The training-data register over HTTP: datasets with per-file licences, decisions, models' datasets, image provenance. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from '../http-errors.ts';
import { errorSchema, imageIdSchema, modelIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

const datasetParams = { type: 'object', properties: { id: modelIdSchema }, required: ['id'] } as const;

function requireAdmin(req: FastifyRequest): void {
  if (req.user.role !== 'admin') throw new HttpError(403, 'only an admin can change the training-data register');
}

export function dataRoutes(app: FastifyInstance, studio: Studio): void {
  const register = studio.dataRegister;

  app.get(
    '/api/datasets',
    { schema: { tags: ['data'], summary: 'Registered datasets (with licence summaries) and the ones that can be registered' } },
    async () => ({
      registered: register.list(),
      available: studio.datasetFolders.list().map((d) => d.id),
    }),
  );

  app.post<{ Body: { id: string } }>(
    '/api/datasets',
    {
      schema: {
        tags: ['data'],
        summary: "Admin: register a dataset from the server's dataset folders (hashes every file, classes every licence)",
        body: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: modelIdSchema } },
        response: { 400: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      return reply.status(201).send(await register.register(req.body.id, studio.datasetFolders.resolve(req.body.id), req.user.id));
    },
  );

  app.get<{ Params: { id: string } }>('/api/datasets/:id', { schema: { tags: ['data'], params: datasetParams, response: { 404: errorSchema } } }, async (req) =>
    register.get(req.params.id),
  );

  app.get<{ Params: { id: string }; Querystring: { flagged?: boolean } }>(
    '/api/datasets/:id/files',
    {
      schema: {
        tags: ['data'],
        summary: "Each file's source, licence and sha256 (flagged=true: restrictive or unknown licences only)",
        params: datasetParams,
        querystring: { type: 'object', additionalProperties: false, properties: { flagged: { type: 'boolean' } } },
      },
    },
    async (req) => ({ files: register.files(req.params.id, { flaggedOnly: req.query.flagged === true }) }),
  );

  app.post<{ Params: { id: string }; Body: { decision: 'include' | 'exclude' } }>(
    '/api/datasets/:id/decision',
    {
      schema: {
        tags: ['data'],
        summary: 'Admin: record whether flagged files are used for training',
        params: datasetParams,
        body: {
          type: 'object',
          required: ['decision'],
          additionalProperties: false,
          properties: { decision: { type: 'string', enum: ['include', 'exclude'] } },
        },
      },
    },
    async (req) => {
      requireAdmin(req);
      return register.decide(req.params.id, req.body.decision, req.user.id);
    },
  );

  app.put<{ Params: { id: string }; Body: { datasets: string[] } }>(
    '/api/models/:id/datasets',
    {
      schema: {
        tags: ['data'],
        summary: 'Admin: record the datasets a model was trained on',
        params: datasetParams,
        body: {
          type: 'object',
          required: ['datasets'],
          additionalProperties: false,
          properties: { datasets: { type: 'array', maxItems: 100, items: modelIdSchema } },
        },
      },
    },
    async (req) => {
      requireAdmin(req);
      const model = studio.models.resolve(req.params.id).id;
      register.recordModel(model, req.body.datasets);
      return register.modelProvenance(model);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/models/:id/provenance',
    { schema: { tags: ['data'], summary: 'The datasets behind a model and their licences', params: datasetParams } },
    async (req) => register.modelProvenance(studio.models.resolve(req.params.id).id),
  );

  app.get<{ Params: { id: string } }>(
    '/api/images/:id/provenance',
    {
      schema: {
        tags: ['data'],
        summary: 'How an image was made, down to the licences of the data behind its model',
        params: { type: 'object', properties: { id: imageIdSchema }, required: ['id'] },
      },
    },
    async (req) => {
      const image = studio.library.require(req.user.id, req.params.id);
      return {
        image: {
          id: image.id,
          origin: image.origin,
          model: image.model,
          modelHash: image.modelHash,
          parentSha256: image.parentSha256,
          provenance: image.provenance,
        },
        model: image.model !== null ? register.modelProvenance(image.model) : null,
      };
    },
  );
}
