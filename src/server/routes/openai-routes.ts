/**
 * OpenAI-compatible image endpoints, so the official `openai` client (baseURL pointed at gesso) can
 * generate: POST /v1/images/generations and /v1/images/edits (inpainting: the mask's transparent pixels
 * are repainted, as OpenAI defines it). Errors come in OpenAI's shape, naming the bad `param`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { checkUpload } from '../../studio/upload-limits.ts';
import { generateAndWait, type FinishedGeneration, type GenerateParams } from '../generate-service.ts';
import { HttpError } from '../http-errors.ts';
import type { Studio } from '../studio.ts';
import { MAX_SIDE } from '../../pipelines/settings.ts';

const MAX_N = 10;

interface GenerationsBody {
  prompt: string;
  model?: string;
  n?: number;
  size?: string;
  response_format?: 'b64_json' | 'url';
}

const imagesResponse = {
  type: 'object',
  properties: {
    created: { type: 'integer' },
    data: {
      type: 'array',
      items: { type: 'object', properties: { b64_json: { type: 'string' }, url: { type: 'string' }, revised_prompt: { type: 'string' } } },
    },
  },
} as const;

export function openAiRoutes(app: FastifyInstance, studio: Studio): void {
  app.post<{ Body: GenerationsBody }>(
    '/v1/images/generations',
    {
      schema: {
        tags: ['openai'],
        summary: 'OpenAI-compatible image generation',
        body: {
          type: 'object',
          required: ['prompt'],
          additionalProperties: true,
          properties: {
            prompt: { type: 'string', minLength: 1, maxLength: 32000 },
            model: { type: 'string', maxLength: 128 },
            n: { type: 'integer', minimum: 1, maximum: MAX_N },
            size: { type: 'string', maxLength: 20 },
            response_format: { type: 'string', enum: ['b64_json', 'url'] },
            quality: { type: 'string' },
            style: { type: 'string' },
            user: { type: 'string' },
          },
        },
        response: { 200: imagesResponse },
      },
    },
    async (req) => {
      const b = req.body;
      const params = baseParams(studio, b.prompt, b.model, b.n, b.size);
      return answer(req, await generateAndWait(studio, req.user, params), b.response_format);
    },
  );

  app.post(
    '/v1/images/edits',
    {
      schema: {
        tags: ['openai'],
        summary: 'OpenAI-compatible image edit (multipart: image, mask, prompt, n, size, response_format)',
        consumes: ['multipart/form-data'],
      },
    },
    async (req) => {
      if (!req.isMultipart()) throw new HttpError(400, 'send multipart/form-data with image, prompt and optionally mask', 'image');
      const fields: Record<string, string> = {};
      const files: Record<string, Buffer> = {};
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          const name = part.fieldname === 'image[]' ? 'image' : part.fieldname;
          files[name] = await part.toBuffer();
        } else if (typeof part.value === 'string') {
          fields[part.fieldname] = part.value;
        }
      }
      const image = files.image;
      if (!image) throw new HttpError(400, 'image is required', 'image');
      const prompt = fields.prompt;
      if (!prompt) throw new HttpError(400, 'prompt is required', 'prompt');
      const n = fields.n !== undefined ? Number(fields.n) : undefined;
      const format = fields.response_format;
      if (format !== undefined && format !== 'b64_json' && format !== 'url')
        throw new HttpError(400, `response_format ${JSON.stringify(format)}: expected "b64_json" or "url"`, 'response_format');
      await checkUpload(new Uint8Array(image), 'image', studio.limits).catch((e: Error) => {
        throw new HttpError(400, e.message, 'image');
      });
      const maskSource = files.mask ?? image;
      if (files.mask) {
        await checkUpload(new Uint8Array(files.mask), 'mask', studio.limits).catch((e: Error) => {
          throw new HttpError(400, e.message, 'mask');
        });
      }
      const params = baseParams(studio, prompt, fields.model, n, fields.size);
      params.initImage = image.toString('base64');
      params.mask = (await transparentToWhite(maskSource)).toString('base64');
      params.strength = 1;
      return answer(req, await generateAndWait(studio, req.user, params), format as 'b64_json' | 'url' | undefined);
    },
  );
}

function baseParams(studio: Studio, prompt: string, model: string | undefined, n: number | undefined, size: string | undefined): GenerateParams {
  let id: string;
  try {
    // OpenAI clients often send their own model names (dall-e-3, gpt-image-1): those mean "the default".
    id = model !== undefined && studio.models.list().some((m) => m.id === model) ? model : studio.models.defaultId;
  } catch (e) {
    throw new HttpError(400, (e as Error).message, 'model');
  }
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > MAX_N)) throw new HttpError(400, `n ${n}: expected an integer from 1 to ${MAX_N}`, 'n');
  const params: GenerateParams = { model: id, prompt, batchSize: n ?? 1 };
  if (size !== undefined && size !== 'auto') {
    const m = /^(\d{1,5})x(\d{1,5})$/.exec(size);
    if (!m) throw new HttpError(400, `size ${JSON.stringify(size)}: expected WIDTHxHEIGHT (e.g. 256x256) or "auto"`, 'size');
    const [width, height] = [Number(m[1]), Number(m[2])];
    // The size of the picture returned, as generate() takes it (an upscaler model generates at a quarter).
    if (!(width >= 8 && width <= MAX_SIDE && height >= 8 && height <= MAX_SIDE)) {
      throw new HttpError(400, `size ${JSON.stringify(size)}: each side must be from 8 to ${MAX_SIDE} pixels`, 'size');
    }
    params.width = width;
    params.height = height;
  }
  return params;
}

function answer(req: FastifyRequest, done: FinishedGeneration, format: 'b64_json' | 'url' | undefined) {
  const created = Math.floor(done.job.createdAt / 1000);
  if (format === 'url') {
    const base = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    return { created, data: done.images.map((i) => ({ url: `${base}/api/images/${i.id}/png`, revised_prompt: i.prompt })) };
  }
  return { created, data: done.pngs.map((b64, k) => ({ b64_json: b64, revised_prompt: done.images[k]?.prompt ?? '' })) };
}

/** OpenAI masks: transparent pixels are edited. gesso masks: white pixels are repainted. */
async function transparentToWhite(png: Buffer): Promise<Buffer> {
  const meta = await sharp(png).metadata();
  if (!meta.hasAlpha) throw new HttpError(400, 'the mask (or, without a mask, the image) needs transparent pixels to mark the area to edit', 'mask');
  return sharp(png).ensureAlpha().extractChannel(3).negate().png().toBuffer();
}
