/**
 * AUTOMATIC1111-compatible endpoints (/sdapi/v1/*) with A1111's request and response shapes, so existing
 * A1111 clients and scripts can drive gesso. Sizes are the output size (after the model's upscaler);
 * `override_settings.sd_model_checkpoint` and POST /options pick the model by its title. Fields gesso
 * does not implement (scripts, hires fix, restore faces) are accepted and ignored, as A1111 clients send
 * them all.
 */
import type { FastifyInstance } from 'fastify';
import { InputError } from '../../core/errors.ts';
import { readImageInfoFromBytes } from '../../image/read-info.ts';
import { listSchedulers } from '../../schedulers/index.ts';
import { checkUpload } from '../../studio/upload-limits.ts';
import { generateAndWait, type GenerateParams } from '../generate-service.ts';
import type { JobProgress } from '../queue/types.ts';
import type { Studio } from '../studio.ts';

interface A1111Request {
  prompt?: string;
  negative_prompt?: string;
  steps?: number;
  cfg_scale?: number;
  sampler_name?: string;
  sampler_index?: string;
  scheduler?: string;
  seed?: number;
  width?: number;
  height?: number;
  batch_size?: number;
  n_iter?: number;
  eta?: number;
  denoising_strength?: number;
  init_images?: string[];
  mask?: string;
  override_settings?: { sd_model_checkpoint?: string } & Record<string, unknown>;
  send_images?: boolean;
}

const numberOrNull = { type: ['number', 'null'] } as const;
const requestSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    prompt: { type: 'string', maxLength: 100000 },
    negative_prompt: { type: 'string', maxLength: 100000 },
    steps: { type: 'integer', minimum: 1, maximum: 1000 },
    cfg_scale: { type: 'number', minimum: 0, maximum: 100 },
    sampler_name: { type: ['string', 'null'] },
    sampler_index: { type: ['string', 'null'] },
    scheduler: { type: ['string', 'null'] },
    seed: { type: 'integer', minimum: -1, maximum: 4294967295 },
    width: { type: 'integer', minimum: 8, maximum: 16384 },
    height: { type: 'integer', minimum: 8, maximum: 16384 },
    batch_size: { type: 'integer', minimum: 1, maximum: 64 },
    n_iter: { type: 'integer', minimum: 1, maximum: 16 },
    eta: numberOrNull,
    denoising_strength: numberOrNull,
    init_images: { type: ['array', 'null'], items: { type: 'string' }, maxItems: 1 },
    mask: { type: ['string', 'null'] },
    override_settings: { type: ['object', 'null'], additionalProperties: true },
    send_images: { type: 'boolean' },
  },
} as const;
const imagesResponse = {
  type: 'object',
  properties: { images: { type: 'array', items: { type: 'string' } }, parameters: { type: 'object', additionalProperties: true }, info: { type: 'string' } },
} as const;

export function a1111Routes(app: FastifyInstance, studio: Studio): void {
  // Per-user A1111 options (sd_model_checkpoint) and the last progress seen, in memory like A1111's.
  const checkpoint = new Map<string, string>();
  const latest = new Map<string, { jobId: string; progress: JobProgress; preview: string | null }>();
  studio.queue.events.on('progress', (job, progress) => {
    const before = latest.get(job.userId);
    const preview = progress.preview ?? (before?.jobId === job.id ? before.preview : null);
    latest.set(job.userId, { jobId: job.id, progress, preview });
  });

  const modelFor = (userId: string, body: A1111Request): string => {
    const title = body.override_settings?.sd_model_checkpoint ?? checkpoint.get(userId) ?? studio.models.defaultId;
    return studio.models.resolve(title.replace(/ \[[0-9a-f]+\]$/, '')).id;
  };

  const run = async (userId: string, body: A1111Request, img2img: boolean) => {
    const user = studio.users.require(userId);
    const model = modelFor(userId, body);
    const params: GenerateParams = { model, prompt: body.prompt ?? '' };
    if (body.negative_prompt) params.negativePrompt = body.negative_prompt;
    if (body.steps !== undefined) params.steps = body.steps;
    if (body.cfg_scale !== undefined) params.cfgScale = body.cfg_scale;
    const sampler = samplerName(body.sampler_name ?? body.sampler_index ?? null, body.scheduler ?? null);
    if (sampler !== null) params.scheduler = sampler;
    if (body.seed !== undefined && body.seed !== -1) params.seed = body.seed;
    // Output sizes, as generate() takes them (with an upscaler it generates at a quarter and resizes to exactly this).
    if (body.width !== undefined) params.width = body.width;
    if (body.height !== undefined) params.height = body.height;
    params.batchSize = (body.batch_size ?? 1) * (body.n_iter ?? 1);
    if (typeof body.eta === 'number') params.eta = body.eta;
    if (img2img) {
      const init = body.init_images?.[0];
      if (init === undefined) throw new InputError('img2img needs init_images: a list with one base64 image');
      params.initImage = init;
      // Like A1111, without a size the output keeps the init image's (generate() does that); the header is checked now.
      await checkUpload(new Uint8Array(Buffer.from(init.replace(/^data:image\/[a-z]+;base64,/, ''), 'base64')), 'init_images[0]', studio.limits);
      if (typeof body.denoising_strength === 'number') params.strength = body.denoising_strength;
      if (body.mask) params.mask = body.mask;
    }
    const done = await generateAndWait(studio, user, params);
    const first = done.images[0];
    const info = {
      prompt: params.prompt,
      all_prompts: done.images.map(() => params.prompt),
      negative_prompt: params.negativePrompt ?? '',
      all_negative_prompts: done.images.map(() => params.negativePrompt ?? ''),
      seed: first?.seed ?? null,
      all_seeds: done.images.map((i) => i.seed),
      width: first?.width ?? null,
      height: first?.height ?? null,
      sampler_name: first?.sampler ?? null,
      cfg_scale: first?.cfgScale ?? null,
      steps: first?.steps ?? null,
      batch_size: params.batchSize,
      sd_model_name: model,
      sd_model_hash: first?.modelHash ?? null,
      infotexts: done.images.map((i) => i.parametersText ?? ''),
      job_timestamp: new Date(done.job.createdAt).toISOString(),
      gesso_image_ids: done.images.map((i) => i.id),
    };
    return { images: body.send_images === false ? [] : done.pngs, parameters: body, info: JSON.stringify(info) };
  };

  app.post<{ Body: A1111Request }>(
    '/sdapi/v1/txt2img',
    { schema: { tags: ['a1111'], summary: 'A1111 txt2img', body: requestSchema, response: { 200: imagesResponse } } },
    async (req) => run(req.user.id, req.body, false),
  );
  app.post<{ Body: A1111Request }>(
    '/sdapi/v1/img2img',
    { schema: { tags: ['a1111'], summary: 'A1111 img2img (init_images, denoising_strength, mask)', body: requestSchema, response: { 200: imagesResponse } } },
    async (req) => run(req.user.id, req.body, true),
  );

  app.post<{ Body: { image: string } }>(
    '/sdapi/v1/png-info',
    {
      schema: {
        tags: ['a1111'],
        summary: 'What a PNG says about how it was made (A1111 parameters; other text chunks as items). Untrusted text, returned as strings.',
        body: { type: 'object', required: ['image'], properties: { image: { type: 'string' } } },
        response: {
          200: {
            type: 'object',
            properties: {
              info: { type: 'string' },
              items: { type: 'object', additionalProperties: { type: 'string' } },
              parameters: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    async (req) => {
      const bytes = new Uint8Array(Buffer.from(req.body.image.replace(/^data:image\/[a-z]+;base64,/, ''), 'base64'));
      await checkUpload(bytes, 'image', studio.limits);
      const info = await readImageInfoFromBytes(bytes, 'image');
      const items: Record<string, string> = { ...info.otherText };
      if (info.recipe) items.gesso = JSON.stringify(info.recipe);
      if (info.xmp) items['XML:com.adobe.xmp'] = info.xmp.packet;
      const a = info.a1111;
      const parameters: Record<string, string | number> = {};
      if (a) {
        parameters.Prompt = a.prompt;
        parameters['Negative prompt'] = a.negativePrompt ?? '';
        if (a.steps !== undefined) parameters.Steps = a.steps;
        if (a.sampler !== undefined) parameters.Sampler = a.sampler;
        if (a.scheduleType !== undefined) parameters['Schedule type'] = a.scheduleType;
        if (a.cfgScale !== undefined) parameters['CFG scale'] = a.cfgScale;
        if (a.seed !== undefined) parameters.Seed = a.seed;
        if (a.width !== undefined) parameters['Size-1'] = a.width;
        if (a.height !== undefined) parameters['Size-2'] = a.height;
        if (a.modelHash !== undefined) parameters['Model hash'] = a.modelHash;
        if (a.model !== undefined) parameters.Model = a.model;
        if (a.denoisingStrength !== undefined) parameters['Denoising strength'] = a.denoisingStrength;
        for (const [k, v] of Object.entries(a.extra ?? {})) parameters[k] = v;
      }
      return { info: info.parametersText ?? '', items, parameters };
    },
  );

  app.get('/sdapi/v1/progress', { schema: { tags: ['a1111'], summary: "Progress of your current generation (A1111's shape)" } }, async (req) => {
    const running = studio.queue.list(req.user.id, { state: 'running', limit: 1 })[0];
    const queued = studio.queue.list(req.user.id, { state: 'queued', limit: 1000 }).length;
    const last = latest.get(req.user.id);
    const p = running && last?.jobId === running.id ? last.progress : null;
    return {
      progress: p ? p.step / p.steps : 0,
      eta_relative: p?.etaMs != null ? p.etaMs / 1000 : 0,
      state: {
        skipped: false,
        interrupted: false,
        stopping_generation: false,
        job: running ? running.id : '',
        job_count: (running ? 1 : 0) + queued,
        job_timestamp: running ? String(running.startedAt ?? running.createdAt) : '0',
        job_no: 0,
        sampling_step: p?.step ?? 0,
        sampling_steps: p?.steps ?? 0,
      },
      current_image: running && last?.jobId === running.id ? last.preview : null,
      textinfo: running ? `gesso job ${running.id}` : null,
    };
  });

  app.post('/sdapi/v1/interrupt', { schema: { tags: ['a1111'], summary: 'Stop your running generation (after its current step)' } }, async (req) => {
    for (const job of studio.queue.list(req.user.id, { state: 'running', limit: 100 })) await studio.queue.cancel(req.user.id, job.id);
    return {};
  });

  app.get('/sdapi/v1/samplers', { schema: { tags: ['a1111'], summary: "Samplers, by A1111's names" } }, async () =>
    listSchedulers().flatMap((s) => (s.aliases.length > 0 ? s.aliases : [s.name]).map((name) => ({ name, aliases: [s.name], options: {} }))),
  );

  app.get('/sdapi/v1/sd-models', { schema: { tags: ['a1111'], summary: 'Models (no server paths: filename is the model id)' } }, async () =>
    studio.models.list().map((m) => ({ title: m.id, model_name: m.id, hash: null, sha256: null, filename: m.id, config: null })),
  );

  app.get('/sdapi/v1/options', { schema: { tags: ['a1111'], summary: 'Options gesso honours' } }, async (req) => ({
    sd_model_checkpoint: checkpoint.get(req.user.id) ?? studio.models.defaultId,
    samples_format: 'png',
    sd_checkpoint_hash: null,
  }));

  app.post<{ Body: Record<string, unknown> }>(
    '/sdapi/v1/options',
    {
      schema: {
        tags: ['a1111'],
        summary: 'Set options (sd_model_checkpoint); others are accepted and ignored',
        body: { type: 'object', additionalProperties: true, properties: { sd_model_checkpoint: { type: 'string' } } },
      },
    },
    async (req) => {
      const title = req.body.sd_model_checkpoint;
      if (typeof title === 'string') checkpoint.set(req.user.id, studio.models.resolve(title.replace(/ \[[0-9a-f]+\]$/, '')).id);
      return null;
    },
  );
}

/** A1111 sends sampler and schedule type apart ("DPM++ 2M" + "Karras"); gesso's names join them. */
function samplerName(sampler: string | null, scheduleType: string | null): string | null {
  if (sampler === null || sampler === '') return null;
  if (scheduleType && scheduleType.toLowerCase() === 'karras' && !/karras$/i.test(sampler)) return `${sampler} Karras`;
  return sampler;
}
