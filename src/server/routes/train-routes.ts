/**
 * Training from the studio (the Train page): start a GAN, fast-style or LoRA fine-tune run on a
 * registered dataset whose licences are cleared, follow its loss curve and sample grids, stop and resume.
 * Each leg of a run is a `train` job (src/server/jobs/train-job.ts) in the queue.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { JsonObject } from '../../core/json.ts';
import { publicJob } from '../generate-service.ts';
import { HttpError } from '../http-errors.ts';
import type { TrainPayload } from '../jobs/train-job.ts';
import type { JobRecord } from '../queue/types.ts';
import { errorSchema, imageIdSchema, jobSchema, modelIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';
import { TRAIN_TYPES, type TrainType } from '../training/train-protocol.ts';
import type { TrainRun } from '../training/train-runs.ts';

/** A GAN small enough to train in seconds (trying the page out, tests); the real one is ganConfig's default. */
export const TINY_GAN = { zDim: 8, wDim: 8, baseChannels: 2, maxChannels: 8 };

interface StartBody {
  type: TrainType;
  dataset: string;
  name: string;
  steps?: number;
  batch?: number;
  size?: number;
  seed?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  tiny?: boolean;
  styleImageId?: string;
  model?: string;
}

const runParams = { type: 'object', properties: { id: { type: 'string', pattern: '^run_[0-9a-f]{16}$' } }, required: ['id'] } as const;

export function trainRoutes(app: FastifyInstance, studio: Studio): void {
  const runs = studio.trainRuns;

  app.get('/api/train/runs', { schema: { tags: ['train'], summary: 'Your training runs, newest first, with their state and last step' } }, async (req) => ({
    runs: runs.list(req.user.id).map((r) => runView(studio, r)),
  }));

  app.post<{ Body: StartBody }>(
    '/api/train/runs',
    {
      schema: {
        tags: ['train'],
        summary:
          'Start a training run on a registered dataset whose licences are cleared: gan (a GAN model), style (a fast style network for the style image styleImageId) or finetune (a LoRA on the diffusion model `model`). GAN and style results are installed as models named `name`.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'dataset', 'name'],
          properties: {
            type: { type: 'string', enum: [...TRAIN_TYPES] },
            dataset: modelIdSchema,
            name: { ...modelIdSchema, description: 'the model (or LoRA) the run makes' },
            steps: { type: 'integer', minimum: 1, maximum: 100000 },
            batch: { type: 'integer', minimum: 1, maximum: 64 },
            size: { type: 'integer', minimum: 16, maximum: 512, description: 'gan: 64 or 128; style: a multiple of 4' },
            seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
            sampleEvery: { type: 'integer', minimum: 1, maximum: 100000 },
            checkpointEvery: { type: 'integer', minimum: 1, maximum: 100000 },
            tiny: { type: 'boolean', description: 'gan: a tiny network that trains in seconds (to try things out)' },
            styleImageId: { ...imageIdSchema, description: 'style: the style image' },
            model: { ...modelIdSchema, description: 'finetune: the diffusion model to adapt' },
          },
        },
        response: {
          202: { type: 'object', properties: { run: { type: 'object', additionalProperties: true }, job: jobSchema } },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const dataset = studio.dataRegister.get(b.dataset);
      if (!dataset.cleared)
        throw new HttpError(
          400,
          `dataset ${b.dataset} has ${dataset.licences.restrictive} restrictive and ${dataset.licences.unknown} unknown licences and no decision yet: record one first`,
          'dataset',
        );
      // The trainers read the whole dataset folder: a decision to leave the flagged files out cannot be honoured.
      if (dataset.flagged && dataset.decision === 'exclude')
        throw new HttpError(
          400,
          `dataset ${b.dataset}: its flagged files are to be excluded, but studio training reads the whole folder; build a dataset without them (gesso data) and register that`,
          'dataset',
        );
      const dataDir = studio.datasetFolders.resolve(b.dataset);
      if (b.type !== 'finetune' && studio.models.catalog().some((m) => m.id === b.name))
        throw new HttpError(400, `a model named ${b.name} already exists`, 'name');
      if (b.type === 'finetune' && studio.models.loras.list().some((l) => l.name === b.name))
        throw new HttpError(400, `a LoRA named ${b.name} already exists`, 'name');
      if (b.type === 'gan' && b.size !== undefined && b.size !== 64 && b.size !== 128)
        throw new HttpError(400, `GAN size ${b.size}: expected 64 or 128`, 'size');
      if (b.type === 'style' && b.size !== undefined && b.size % 4 !== 0) throw new HttpError(400, `style size ${b.size}: expected a multiple of 4`, 'size');
      if (b.type === 'style' && b.styleImageId === undefined) throw new HttpError(400, 'a style run needs a style image (styleImageId)', 'styleImageId');
      if (b.type === 'finetune') studio.models.find(b.model ?? studio.models.defaultId, ['diffusion']);
      const style = b.type === 'style' ? studio.library.require(req.user.id, b.styleImageId as string) : null;
      const settings: JsonObject = {};
      for (const key of ['steps', 'batch', 'size', 'seed', 'sampleEvery', 'checkpointEvery', 'tiny', 'model'] as const)
        if (b[key] !== undefined) settings[key] = b[key];
      if (b.type === 'finetune') settings.model = b.model ?? studio.models.defaultId;
      let run = runs.create({ userId: req.user.id, type: b.type, name: b.name, dataset: b.dataset, settings });
      if (style) writeFileSync(join(runs.dir(run.id), 'style.png'), await studio.library.store.get(style.sha256));
      const job = await submitLeg(studio, run, dataDir);
      run = runs.addJob(run, job.id);
      return reply.status(202).send({ run: runView(studio, run), job: publicJob(job) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/train/runs/:id',
    {
      schema: {
        tags: ['train'],
        summary: 'A run: state, loss history (at most 400 points) and the steps of its sample grids',
        params: runParams,
        response: { 404: errorSchema },
      },
    },
    async (req) => {
      const run = runs.get(req.user.id, req.params.id);
      return { ...runView(studio, run), history: runs.history(run), samples: runs.samples(run).map((s) => s.step) };
    },
  );

  app.get<{ Params: { id: string; step: number } }>(
    '/api/train/runs/:id/samples/:step',
    {
      schema: {
        tags: ['train'],
        summary: 'A sample grid of a run (PNG)',
        params: { type: 'object', properties: { id: runParams.properties.id, step: { type: 'integer', minimum: 0 } }, required: ['id', 'step'] },
      },
    },
    async (req, reply) => {
      const run = runs.get(req.user.id, req.params.id);
      return reply
        .type('image/png')
        .header('cache-control', 'private, max-age=3600')
        .send(Buffer.from(runs.sample(run, req.params.step)));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/train/runs/:id/stop',
    {
      schema: {
        tags: ['train'],
        summary: 'Stop a run (its job is cancelled; the last checkpoint stays for resuming)',
        params: runParams,
        response: { 404: errorSchema },
      },
    },
    async (req) => {
      const { run, active } = runAndJob(studio, req.user.id, req.params.id);
      // A run whose leg already ended (finished, failed, stopped) is left as it is: stopping it again changes nothing.
      if (active) await studio.queue.cancel(req.user.id, active.id);
      return runView(studio, run);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/train/runs/:id/resume',
    {
      schema: {
        tags: ['train'],
        summary: 'Resume a stopped run from its last checkpoint (a new job on the same run folder)',
        params: runParams,
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      let { run, job, active } = runAndJob(studio, req.user.id, req.params.id);
      if (active) throw new HttpError(400, `run ${run.id} is already ${active.state}`);
      if (job?.state === 'done') throw new HttpError(400, `run ${run.id} has finished`);
      const next = await submitLeg(studio, run, studio.datasetFolders.resolve(run.dataset));
      run = runs.addJob(run, next.id);
      return reply.status(202).send({ run: runView(studio, run), job: publicJob(next) });
    },
  );
}

/** The user's run, its newest job, and that job again if it is still queued or running. */
function runAndJob(studio: Studio, userId: string, id: string): { run: TrainRun; job: JobRecord | null; active: JobRecord | null } {
  const run = studio.trainRuns.get(userId, id);
  const job = current(studio, run);
  return { run, job, active: job && (job.state === 'queued' || job.state === 'running') ? job : null };
}

function current(studio: Studio, run: TrainRun): JobRecord | null {
  const id = run.jobIds.at(-1);
  return id ? studio.queue.get(run.userId, id) : null;
}

/** A run as the API shows it: no server paths. */
function runView(studio: Studio, run: TrainRun) {
  const job = current(studio, run);
  const progress = job?.progress ?? null;
  return {
    id: run.id,
    type: run.type,
    name: run.name,
    dataset: run.dataset,
    settings: run.settings,
    createdAt: run.createdAt,
    jobId: job?.id ?? null,
    state: job?.state ?? 'queued',
    error: job?.error ?? null,
    step: progress?.step ?? 0,
    steps: typeof run.settings.steps === 'number' ? run.settings.steps : (progress?.steps ?? 0),
  };
}

/** Queues one leg of a run: the trainer's options from the run's settings (so a resume is the same run). */
async function submitLeg(studio: Studio, run: TrainRun, dataDir: string): Promise<JobRecord> {
  const s = run.settings;
  const runDir = studio.trainRuns.dir(run.id);
  const num = (key: string, fallback: number): number => (typeof s[key] === 'number' ? (s[key] as number) : fallback);
  const steps = num('steps', run.type === 'gan' ? 2000 : run.type === 'style' ? 500 : 200);
  const installDir = join(studio.trainedModelsDir, run.name);
  let payload: TrainPayload;
  const every = {
    sampleEvery: num('sampleEvery', Math.max(1, Math.ceil(steps / 10))),
    checkpointEvery: num('checkpointEvery', Math.max(1, Math.ceil(steps / 10))),
  };
  if (run.type === 'gan') {
    const options: JsonObject = {
      dataDir,
      runDir,
      outDir: installDir,
      size: num('size', 64),
      steps,
      batchSize: num('batch', 16),
      seed: num('seed', 0),
      threads: 1,
      ...every,
    };
    if (s.tiny === true) options.architecture = TINY_GAN;
    payload = { type: 'gan', runDir, steps, options };
  } else if (run.type === 'style') {
    const options: JsonObject = {
      style: join(runDir, 'style.png'),
      contentDir: dataDir,
      runDir,
      steps,
      batch: num('batch', 4),
      size: num('size', 128),
      seed: num('seed', 1),
      ...every,
    };
    const card = `# ${run.name} (fast style network, trained in the gesso studio)\n\nTrained by gesso's engine on dataset \`${run.dataset}\` (content images; licences in the studio's training-data register) for ${steps} steps at ${options.size} px, batch ${options.batch}. The style image is \`style.png\` of the run.\n`;
    payload = { type: 'style', runDir, steps, options, installDir, card };
  } else {
    const model = studio.models.find(typeof s.model === 'string' ? s.model : studio.models.defaultId, ['diffusion']);
    const options: JsonObject = {
      modelDir: model.dir,
      dataDir,
      outDir: runDir,
      name: run.name,
      steps,
      batch: num('batch', 4),
      seed: num('seed', 0),
      sampleSteps: 10,
      ...every,
    };
    if (typeof s.size === 'number') options.size = s.size;
    payload = { type: 'finetune', runDir, steps, options, installLora: join(studio.trainedLorasDir, `${run.name}.safetensors`) };
  }
  return studio.queue.submit({ userId: run.userId, kind: 'train', payload: payload as unknown as JsonObject });
}
