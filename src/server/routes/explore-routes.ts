/** Latent exploration (the Explore page): one route that queues an `explore` job (src/server/jobs/explore-job.ts). */
import type { FastifyInstance } from 'fastify';
import type { JsonObject } from '../../core/json.ts';
import { publicJob } from '../generate-service.ts';
import { DIFFUSION_EXPLORE_MODES, GAN_EXPLORE_MODES, ganSpecs, type ExplorePayload } from '../jobs/explore-job.ts';
import { errorSchema, jobIdSchema, jobSchema, modelIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

const latentSpec = {
  type: 'object',
  description:
    'a latent spec: {op: "seed", seed} | {op: "interpolate", from, to, t, method, space} | {op: "mix", parents, weights} | {op: "gene", base, moves} | {op: "breed", parents, seed, rate, scale}',
  required: ['op'],
  properties: { op: { type: 'string', enum: ['seed', 'interpolate', 'mix', 'gene', 'breed'] } },
} as const;
const specs = (max: number) => ({ type: 'array', maxItems: max, items: latentSpec }) as const;
const seed = { type: 'integer', minimum: 0, maximum: 4294967295 } as const;

export const exploreBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'mode'],
  properties: {
    id: jobIdSchema,
    model: { ...modelIdSchema, description: 'a GAN model id for the GAN modes, a text-to-image model id for the diffusion modes (GET /api/models/catalog)' },
    mode: { type: 'string', enum: [...GAN_EXPLORE_MODES, ...DIFFUSION_EXPLORE_MODES] },
    truncation: { type: 'number', minimum: 0, maximum: 2, description: 'ψ: 1 = none, 0.7 is typical' },
    seeds: { type: 'array', minItems: 1, maxItems: 256, items: seed, description: 'samples: one image per seed' },
    keys: { ...specs(16), description: 'walk: keyframes' },
    frames: { type: 'integer', minimum: 2, maximum: 120, description: 'walk: frames per segment; diffusion-walk: frames' },
    loop: { type: 'boolean', description: 'walk: return to the first keyframe (default true)' },
    corners: { ...specs(4), description: 'grid: top-left, top-right, bottom-left, bottom-right' },
    n: { type: 'integer', minimum: 2, maximum: 16, description: 'grid side (grid, genes, diffusion-grid)' },
    base: latentSpec,
    genes: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string', maxLength: 64 }, description: 'genes: the column and row genes' },
    range: { type: 'number', minimum: 0, maximum: 10, description: 'genes: ± this many standard deviations' },
    parents: { ...specs(16), description: 'breed: the parents' },
    children: { type: 'integer', minimum: 1, maximum: 64 },
    seed: { ...seed, description: 'breed: child i uses seed + i' },
    rate: { type: 'number', minimum: 0, maximum: 1, description: 'breed: mutation probability per gene' },
    specs: { ...specs(256), description: 'specs: render these latents (e.g. a base moved by gene sliders)' },
    prompts: {
      type: 'array',
      minItems: 1,
      maxItems: 2,
      items: { type: 'string', minLength: 1, maxLength: 2000 },
      description: 'diffusion: one or two prompts',
    },
    noiseSeeds: { type: 'array', minItems: 2, maxItems: 2, items: seed, description: 'diffusion: the two seeds whose noise is slerped' },
    steps: { type: 'integer', minimum: 1, maximum: 50 },
    cfgScale: { type: 'number', minimum: 0, maximum: 30 },
    width: { type: 'integer', minimum: 8, maximum: 512 },
    height: { type: 'integer', minimum: 8, maximum: 512 },
    animation: { type: 'string', enum: ['webp', 'gif'], description: 'also return the images as a looping animation' },
    fps: { type: 'number', exclusiveMinimum: 0, maximum: 60 },
  },
} as const;

export function exploreRoutes(app: FastifyInstance, studio: Studio): void {
  app.post<{ Body: ExplorePayload & { id?: string } }>(
    '/api/explore',
    {
      schema: {
        tags: ['explore'],
        summary:
          'Queue a latent exploration: GAN samples, walks, corner grids, gene grids, breeding or given specs; diffusion walks and grids between two prompts and seeds. The job result holds each image (base64 PNG with its explore recipe, its spec and a label) and an optional WebP/GIF animation.',
        body: exploreBodySchema,
        response: { 202: jobSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { id, ...payload } = req.body;
      // The model must exist and be of the right kind now, not later in the queue.
      const diffusion = (DIFFUSION_EXPLORE_MODES as readonly string[]).includes(payload.mode);
      studio.models.find(payload.model, diffusion ? ['diffusion'] : ['gan']);
      if (!diffusion) ganSpecs(payload); // bad latent specs are a 400 now
      const job = await studio.queue.submit({
        ...(id !== undefined ? { id } : {}),
        userId: req.user.id,
        kind: 'explore',
        payload: payload as unknown as JsonObject,
      });
      return reply.status(202).send(publicJob(job));
    },
  );
}
