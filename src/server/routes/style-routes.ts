/** Style transfer (the Style page): queue a `style` job on library images; the result lands in the library. */
import type { FastifyInstance } from 'fastify';
import type { JsonObject } from '../../core/json.ts';
import { STYLE_METHODS, type StyleMethod } from '../../style/stylize.ts';
import { publicJob } from '../generate-service.ts';
import { HttpError } from '../http-errors.ts';
import { DEFAULT_ADAIN_MODEL, type StylePayload } from '../jobs/style-job.ts';
import { errorSchema, imageIdSchema, jobIdSchema, jobSchema, modelIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

interface StyleBody {
  id?: string;
  method: StyleMethod;
  contentImageId: string;
  styleImageId?: string;
  model?: string;
  strength?: number;
  size?: number;
  iterations?: number;
}

export function styleRoutes(app: FastifyInstance, studio: Studio): void {
  app.post<{ Body: StyleBody }>(
    '/api/style',
    {
      schema: {
        tags: ['jobs'],
        summary:
          'Queue a style transfer of a library image: gatys (optimisation, any style image), fast (a trained style network, model = its id) or adain (any style image in one pass; model default gesso-adain-v1). The result goes into the library with the content image as its parent.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['method', 'contentImageId'],
          properties: {
            id: jobIdSchema,
            method: { type: 'string', enum: [...STYLE_METHODS] },
            contentImageId: imageIdSchema,
            styleImageId: { ...imageIdSchema, description: 'needed by gatys and adain' },
            model: { ...modelIdSchema, description: 'fast: a style-fast model id; adain: a style-adain model id' },
            strength: {
              type: 'number',
              minimum: 0,
              maximum: 10,
              description: 'gatys scales the style weight; fast/adain blend with the content (1 = full style)',
            },
            size: { type: 'integer', minimum: 16, maximum: 1024, description: 'longer side of the output in pixels' },
            iterations: { type: 'integer', minimum: 1, maximum: 2000, description: 'gatys only' },
          },
        },
        response: { 202: jobSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { id, method, contentImageId, styleImageId, model, strength, size, iterations } = req.body;
      const bytes = async (imageId: string) => {
        const image = studio.library.require(req.user.id, imageId);
        return { sha256: image.sha256, base64: Buffer.from(await studio.library.store.get(image.sha256)).toString('base64') };
      };
      // Checked now, not later in the queue.
      if (method !== 'fast' && styleImageId === undefined) throw new HttpError(400, `method ${method} needs a style image (styleImageId)`, 'styleImageId');
      if (method === 'fast') {
        if (model === undefined) throw new HttpError(400, 'method fast needs a trained style network: model = a style-fast model id', 'model');
        studio.models.find(model, ['style-fast']);
      }
      if (method === 'adain') studio.models.find(model ?? DEFAULT_ADAIN_MODEL, ['style-adain']);
      const content = await bytes(contentImageId);
      const payload: StylePayload = { method, content: content.base64, initSha256: content.sha256 };
      if (method !== 'fast' && styleImageId !== undefined) payload.style = (await bytes(styleImageId)).base64;
      if (model !== undefined && method !== 'gatys') payload.model = model;
      if (strength !== undefined) payload.strength = strength;
      if (size !== undefined) payload.size = size;
      if (iterations !== undefined) payload.iterations = iterations;
      const job = await studio.queue.submit({
        ...(id !== undefined ? { id } : {}),
        userId: req.user.id,
        kind: 'style',
        payload: payload as unknown as JsonObject,
      });
      return reply.status(202).send(publicJob(job));
    },
  );
}
