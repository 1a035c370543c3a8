/** Installed models of every kind with their cards (the Models page), and the pictures the cards show. */
import type { FastifyInstance } from 'fastify';
import { modelCard, modelPicture } from '../model-catalog.ts';
import { errorSchema, modelIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

export function modelRoutes(app: FastifyInstance, studio: Studio): void {
  app.get(
    '/api/models/catalog',
    {
      schema: {
        tags: ['server'],
        summary:
          'Every installed model (text-to-image, GAN, AdaIN and fast style networks, and models trained in the studio) with its card: README, metrics (eval.json), training facts, data licences, pictures, GAN genes',
      },
    },
    async () => ({ default: studio.models.defaultId, models: studio.models.catalog().map(modelCard) }),
  );

  app.get(
    '/api/loras',
    {
      schema: {
        tags: ['server'],
        summary:
          "LoRA files a generation can merge into the model (POST /api/generate's loras, or <lora:name:w> in the prompt): the server's LoRA folders and those trained on the Train page",
        response: {
          200: {
            type: 'object',
            properties: {
              loras: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    bytes: { type: 'integer' },
                    baseModel: { type: ['string', 'null'] },
                    steps: { type: ['integer', 'null'] },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({ loras: studio.models.loras.list().map(({ path: _path, ...shown }) => shown) }),
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/api/models/:id/files/:name',
    {
      schema: {
        tags: ['server'],
        summary: "A PNG from a model's folder that its card shows (samples.png, loss-curves.png, ...)",
        params: { type: 'object', properties: { id: modelIdSchema, name: { type: 'string', maxLength: 110 } }, required: ['id', 'name'] },
        response: { 404: errorSchema },
      },
    },
    async (req, reply) => {
      const entry = studio.models.find(req.params.id);
      return reply
        .type('image/png')
        .header('cache-control', 'public, max-age=3600')
        .send(Buffer.from(modelPicture(entry, req.params.name)));
    },
  );
}
