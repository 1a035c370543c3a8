/** POST /api/taste/rank: your images ordered by your taste model (trained on your A/B comparisons). */
import type { FastifyInstance } from 'fastify';
import { errorSchema, imageIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';
import { TasteService } from '../taste-service.ts';

export function tasteRoutes(app: FastifyInstance, studio: Studio): TasteService {
  const taste = new TasteService(studio);
  app.addHook('onClose', async () => taste.close());
  app.post<{ Body: { imageIds: string[]; k?: number } }>(
    '/api/taste/rank',
    {
      schema: {
        tags: ['curation'],
        summary: '"Best of N": rank images by your taste model, which learns from every comparison you record',
        body: {
          type: 'object',
          required: ['imageIds'],
          additionalProperties: false,
          properties: { imageIds: { type: 'array', minItems: 1, maxItems: 500, items: imageIdSchema }, k: { type: 'integer', minimum: 1, maximum: 500 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ranked: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, score: { type: 'number' } } } },
              judgements: { type: 'integer' },
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req) => taste.rank(req.user.id, req.body.imageIds, req.body.k),
  );
  return taste;
}
