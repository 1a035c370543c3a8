/**
 * Serves the built web studio (web/dist, made by `npm run build:web`, which `npm ci` runs through
 * `prepare`) at /. The app routes with the URL hash, so only files under dist are ever served: a path
 * is looked up in a list of the files built, never joined onto the disk path, so `..` cannot escape.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';

export const WEB_DIST = resolve(import.meta.dirname, '../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

/** True for the paths the web app's files are served at (they need no API token). */
export function isWebAppPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/' || path === '/index.html' || path.startsWith('/assets/') || path === '/favicon.svg';
}

export function webRoutes(app: FastifyInstance, dist: string = WEB_DIST): void {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.status(503).type('text/plain; charset=utf-8').send('The web studio is not built: run `npm run build:web` (npm ci does it).'),
    );
    return;
  }
  const files = new Map<string, string>();
  for (const file of listFiles(dist)) files.set(`/${relative(dist, file).split('\\').join('/')}`, file);
  const send = (path: string) => ({ body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream' });

  app.get('/', { schema: { hide: true } }, async (_req, reply) => {
    const { body, type } = send(index);
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (req, reply) => {
    const file = files.get(`/assets/${req.params['*']}`);
    if (!file) return reply.status(404).send({ error: `no such file: /assets/${req.params['*']}` });
    const { body, type } = send(file);
    // Built asset names carry a content hash: cache them for good.
    return reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff').send(body);
  });
}
