/**
 * Jobs and their progress: submit, list, cancel, and events (step, ETA, preview PNG every few steps,
 * state changes) as Server-Sent Events or over a WebSocket. A user only ever sees their own jobs.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { NotFoundError } from '../../studio/library.ts';
import { publicJob, submitGenerate, type GenerateParams } from '../generate-service.ts';
import type { JobProgress, JobRecord } from '../queue/types.ts';
import { errorSchema, generateParamsSchema, imageIdSchema, jobIdSchema, jobSchema, modelIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

const idParams = { type: 'object', properties: { id: jobIdSchema }, required: ['id'] } as const;

/** One message on the event stream. */
export type JobEvent = { type: 'progress'; jobId: string; progress: JobProgress } | { type: 'state'; job: ReturnType<typeof publicJob> };

export function jobRoutes(app: FastifyInstance, studio: Studio): void {
  const { queue } = studio;

  app.post<{ Body: GenerateParams & { id?: string; priority?: number } }>(
    '/api/generate',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Queue a generation (txt2img; img2img with initImageId or initImage; inpainting with a mask). A client-chosen id makes it idempotent.',
        body: {
          ...generateParamsSchema,
          properties: {
            ...generateParamsSchema.properties,
            id: jobIdSchema,
            priority: { type: 'integer', minimum: -10, maximum: 10, description: 'among your own jobs, higher runs first' },
          },
        },
        response: { 202: jobSchema, 400: errorSchema, 404: errorSchema, 413: errorSchema },
      },
    },
    async (req, reply) => {
      const { id, priority, ...params } = req.body;
      const job = await submitGenerate(studio, req.user, params, { ...(id !== undefined ? { id } : {}), ...(priority !== undefined ? { priority } : {}) });
      return reply.status(202).send(publicJob(job));
    },
  );

  app.post<{ Body: { imageId: string; model?: string; id?: string; priority?: number } }>(
    '/api/upscale',
    {
      schema: {
        tags: ['jobs'],
        summary: "Queue an upscale of a library image with a model's upscaler (the result keeps the source as lineage)",
        body: {
          type: 'object',
          required: ['imageId'],
          additionalProperties: false,
          properties: { imageId: imageIdSchema, model: modelIdSchema, id: jobIdSchema, priority: { type: 'integer', minimum: -10, maximum: 10 } },
        },
        response: { 202: jobSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { imageId, model, id, priority } = req.body;
      const image = studio.library.require(req.user.id, imageId);
      const payload = {
        model: studio.models.resolve(model ?? studio.models.defaultId).id,
        image: Buffer.from(await studio.library.store.get(image.sha256)).toString('base64'),
        imageSha256: image.sha256,
      };
      const job = await queue.submit({
        ...(id !== undefined ? { id } : {}),
        ...(priority !== undefined ? { priority } : {}),
        userId: req.user.id,
        kind: 'upscale',
        payload,
      });
      return reply.status(202).send(publicJob(job));
    },
  );

  app.post<{ Body: { id?: string; priority?: number; ms?: number; steps?: number } }>(
    '/api/jobs/sleep',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Queue a "sleep" job (waits ms in steps, reports progress): for checking the queue and measuring its throughput',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            id: jobIdSchema,
            priority: { type: 'integer', minimum: -10, maximum: 10 },
            ms: { type: 'integer', minimum: 0, maximum: 60000 },
            steps: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: { 202: jobSchema, 400: errorSchema },
      },
    },
    async (req, reply) => {
      const { id, priority, ms, steps } = req.body;
      const job = await queue.submit({
        ...(id !== undefined ? { id } : {}),
        ...(priority !== undefined ? { priority } : {}),
        userId: req.user.id,
        kind: 'sleep',
        payload: { ms: ms ?? 0, steps: steps ?? 1 },
      });
      return reply.status(202).send(publicJob(job));
    },
  );

  app.get<{ Querystring: { state?: JobRecord['state']; limit?: number } }>(
    '/api/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Your jobs, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: jobSchema } } } },
      },
    },
    async (req) => ({
      jobs: queue
        .list(req.user.id, { ...(req.query.state ? { state: req.query.state } : {}), ...(req.query.limit ? { limit: req.query.limit } : {}) })
        .map(publicJob),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/jobs/:id',
    { schema: { tags: ['jobs'], params: idParams, response: { 200: jobSchema, 404: errorSchema } } },
    async (req) => publicJob(requireJob(studio, req.user.id, req.params.id)),
  );

  app.post<{ Params: { id: string } }>(
    '/api/jobs/:id/cancel',
    { schema: { tags: ['jobs'], summary: 'Cancel a queued or running job', params: idParams, response: { 200: jobSchema, 404: errorSchema } } },
    async (req) => publicJob(await queue.cancel(req.user.id, req.params.id)),
  );

  app.get('/api/events', { schema: { tags: ['jobs'], summary: 'Server-Sent Events: progress and state of all your jobs' } }, (req, reply) =>
    streamEvents(studio, req, reply, null),
  );
  app.get<{ Params: { id: string } }>(
    '/api/jobs/:id/events',
    { schema: { tags: ['jobs'], summary: "Server-Sent Events of one job's progress", params: idParams } },
    (req, reply) => {
      requireJob(studio, req.user.id, req.params.id);
      return streamEvents(studio, req, reply, req.params.id);
    },
  );

  app.get(
    '/api/events/ws',
    { websocket: true, schema: { tags: ['jobs'], summary: 'WebSocket: the same events as /api/events, one JSON message each' } },
    (socket: WebSocket, req: FastifyRequest) => {
      const unsubscribe = subscribe(studio, req.user.id, null, (event) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
      });
      socket.on('close', unsubscribe);
    },
  );
}

function requireJob(studio: Studio, userId: string, id: string): JobRecord {
  const job = studio.queue.get(userId, id);
  if (!job) throw new NotFoundError(`job ${id} not found`);
  return job;
}

/** Calls `send` with each event of the user's jobs (or one job); returns the unsubscribe function. */
export function subscribe(studio: Studio, userId: string, jobId: string | null, send: (event: JobEvent) => void): () => void {
  const onProgress = (job: { id: string; userId: string }, progress: JobProgress): void => {
    if (job.userId === userId && (jobId === null || job.id === jobId)) send({ type: 'progress', jobId: job.id, progress });
  };
  const onState = (job: JobRecord): void => {
    if (job.userId === userId && (jobId === null || job.id === jobId)) send({ type: 'state', job: publicJob(job) });
  };
  studio.queue.events.on('progress', onProgress);
  studio.queue.events.on('state', onState);
  return () => {
    studio.queue.events.off('progress', onProgress);
    studio.queue.events.off('state', onState);
  };
}

function streamEvents(studio: Studio, req: FastifyRequest, reply: FastifyReply, jobId: string | null): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
  res.write(': gesso events\n\n');
  if (jobId !== null) {
    const job = studio.queue.get(req.user.id, jobId);
    if (job) res.write(`event: state\ndata: ${JSON.stringify({ type: 'state', job: publicJob(job) })}\n\n`);
  }
  const unsubscribe = subscribe(studio, req.user.id, jobId, (event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.raw.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
}
