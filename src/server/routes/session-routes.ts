/**
 * POST /api/session: trade the API token (Authorization: Bearer) for a short-lived, HttpOnly,
 * SameSite=Strict cookie, so the browser's images, event streams and WebSockets are let in with
 * --listen. DELETE /api/session ends it in this browser. In local mode no cookie is needed.
 */
import type { FastifyInstance } from 'fastify';
import { type BrowserSessions, SESSION_COOKIE, SESSION_TTL_MS } from '../browser-sessions.ts';
import { HttpError } from '../http-errors.ts';

export function sessionRoutes(app: FastifyInstance, sessions: BrowserSessions, mode: 'local' | 'accounts'): void {
  const response = { 200: { type: 'object', properties: { expiresAt: { type: ['integer', 'null'] }, user: { type: 'string' } } } };
  app.post(
    '/api/session',
    { schema: { tags: ['users'], summary: 'Start a browser session: a cookie for images, previews and WebSockets (needs your API token)', response } },
    async (req, reply) => {
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (mode === 'local' || !token) return { expiresAt: null, user: req.user.name }; // local mode: no token, no cookie needed
      const session = sessions.issue(token);
      if (!session) throw new HttpError(401, 'the API token is not valid');
      const secure = req.protocol === 'https' ? '; Secure' : '';
      reply.header('set-cookie', `${SESSION_COOKIE}=${session.value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure}`);
      return { expiresAt: session.expiresAt, user: req.user.name };
    },
  );
  app.delete('/api/session', { schema: { tags: ['users'], summary: 'End the browser session (clears the cookie)', response } }, async (req, reply) => {
    reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
    return { expiresAt: null, user: req.user.name };
  });
}
