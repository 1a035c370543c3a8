/**
 * Your taste model over HTTP (trained on your A/B comparisons and ratings): POST /api/taste/rank orders
 * images best first; GET /api/taste/why/:id says which past choices drove an image's score; POST
 * /api/taste/suggest proposes settings to make next ("more like my taste").
 */
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

  const source = {
    type: 'object',
    properties: {
      kind: { type: 'string', enum: ['comparison', 'ratings'] },
      winnerId: { type: 'string' },
      loserId: { type: 'string' },
      comparisonId: { type: 'integer' },
      ratings: { type: 'array', items: { type: 'integer' } },
      contribution: { type: 'number' },
      alignment: { type: 'number' },
    },
  } as const;
  app.get<{ Params: { id: string }; Querystring: { k?: number } }>(
    '/api/taste/why/:id',
    {
      schema: {
        tags: ['curation'],
        summary: 'Why your taste model scores an image as it does: the past choices with the largest share of its score, and the features',
        params: { type: 'object', properties: { id: imageIdSchema }, required: ['id'] },
        querystring: { type: 'object', additionalProperties: false, properties: { k: { type: 'integer', minimum: 1, maximum: 50 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              score: { type: 'number' },
              judgements: { type: 'integer' },
              influences: { type: 'array', items: source },
              features: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, contribution: { type: 'number' } } } },
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req) => taste.why(req.user.id, req.params.id, req.query.k),
  );

  app.post<{ Body: { count?: number } }>(
    '/api/taste/suggest',
    {
      schema: {
        tags: ['curation'],
        summary: '"More like my taste": settings (prompt, CFG, new seeds) to generate with next, chosen from how your taste model scores what each made',
        body: { type: 'object', additionalProperties: false, properties: { count: { type: 'integer', minimum: 1, maximum: 20 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              judgements: { type: 'integer' },
              suggestions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    prompt: { type: 'string' },
                    cfgScale: { type: ['number', 'null'] },
                    seeds: { type: 'array', items: { type: 'integer' } },
                    meanScore: { type: 'number' },
                    images: { type: 'integer' },
                    bestImageId: { type: 'string' },
                    upperBound: { type: 'number' },
                    why: { type: 'string' },
                  },
                },
              },
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req) => taste.suggest(req.user.id, req.body?.count),
  );
  return taste;
}
