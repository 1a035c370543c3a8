/**
 * The HTTP server of `gesso serve` (Fastify): gesso's REST API with its OpenAPI 3.1 document at
 * /openapi.json (built from the route schemas), job events over SSE and WebSocket, and the
 * AUTOMATIC1111- and OpenAI-compatible endpoints. Security checks run before every route.
 */
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { boardRoutes } from './collab/board-routes.ts';
import { errorHandler } from './http-errors.ts';
import { a1111Routes } from './routes/a1111-routes.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { dataRoutes } from './routes/data-routes.ts';
import { exploreRoutes } from './routes/explore-routes.ts';
import { jobRoutes } from './routes/job-routes.ts';
import { libraryRoutes } from './routes/library-routes.ts';
import { modelRoutes } from './routes/model-routes.ts';
import { openAiRoutes } from './routes/openai-routes.ts';
import { styleRoutes } from './routes/style-routes.ts';
import { tasteRoutes } from './routes/taste-routes.ts';
import { BrowserSessions } from './browser-sessions.ts';
import { sessionRoutes } from './routes/session-routes.ts';
import { trainRoutes } from './routes/train-routes.ts';
import { securityHook, type SecurityOptions } from './security.ts';
import type { Studio } from './studio.ts';
import { webRoutes } from './web-routes.ts';

export interface AppOptions extends Partial<SecurityOptions> {
  /** Log requests (pino) — off in tests. */
  logger?: boolean;
}

export async function buildApp(studio: Studio, options: AppOptions = {}): Promise<FastifyInstance> {
  const security: SecurityOptions = { mode: options.mode ?? 'local', allowedHosts: options.allowedHosts ?? [], allowedOrigins: options.allowedOrigins ?? [] };
  // JSON bodies carry base64 images: allow the upload limit plus base64's third.
  const bodyLimit = Math.ceil(studio.limits.maxBytes * 1.4) + 1024 * 1024;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  });
  app.setErrorHandler(errorHandler);
  app.addContentTypeParser('image/png', { parseAs: 'buffer', bodyLimit: studio.limits.maxBytes }, (_req, body, done) => done(null, body));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'gesso studio API', version: '1', description: 'Library, curation, jobs and generation; A1111- and OpenAI-compatible endpoints.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API token (needed with --listen)' } } },
      security: security.mode === 'accounts' ? [{ bearer: [] }] : [],
    },
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 1024 * 1024 } });
  await app.register(fastifyMultipart, { limits: { fileSize: studio.limits.maxBytes, files: 2, fields: 20 } });
  const sessions = new BrowserSessions(studio.db, studio.users);
  app.addHook('onRequest', securityHook(security, studio.users, sessions));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  adminRoutes(app, studio);
  sessionRoutes(app, sessions, security.mode);
  libraryRoutes(app, studio);
  jobRoutes(app, studio);
  a1111Routes(app, studio);
  openAiRoutes(app, studio);
  dataRoutes(app, studio);
  boardRoutes(app, studio);
  tasteRoutes(app, studio);
  // The studio's Explore, Style, Train and Models pages.
  exploreRoutes(app, studio);
  styleRoutes(app, studio);
  trainRoutes(app, studio);
  modelRoutes(app, studio);
  webRoutes(app);
  await app.ready();
  return app;
}
