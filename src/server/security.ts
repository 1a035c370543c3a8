/**
 * Who is asking, and may a browser page ask at all.
 *
 * - Host check (DNS rebinding): in local mode only localhost names are served, so a page on
 *   evil.example whose name now resolves to 127.0.0.1 gets 403. With --listen, the allowed host names
 *   are given (any when none are).
 * - Origin check (cross-site requests, the hole ComfyUI had): a request that changes anything
 *   (POST/PUT/PATCH/DELETE) or opens a WebSocket from a page on another origin is refused, whether or not
 *   it carries credentials. Requests with no Origin (curl, SDK clients) pass.
 * - Identity: local mode is one owner with no token; --listen needs `Authorization: Bearer <token>`,
 *   or, for reading requests and WebSockets only, the browser session cookie (browser-sessions.ts) that
 *   lets <img>, EventSource and WebSocket carry the user without a header.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type BrowserSessions, sessionCookie } from './browser-sessions.ts';
import type { User, Users } from '../studio/users.ts';
import { HttpError } from './http-errors.ts';
import { isWebAppPath } from './web-routes.ts';

export interface SecurityOptions {
  /** 'local': one owner, localhost only. 'accounts': tokens required. */
  mode: 'local' | 'accounts';
  /** Host names (no port) that may be served; local mode adds localhost names. Empty with accounts: any. */
  allowedHosts: string[];
  /** Extra origins allowed to send changing requests (e.g. a web UI served elsewhere). */
  allowedOrigins: string[];
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    user: User;
  }
}

export function hostName(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

export function securityHook(options: SecurityOptions, users: Users, sessions: BrowserSessions) {
  const hosts = new Set([...options.allowedHosts.map((h) => h.toLowerCase()), ...(options.mode === 'local' ? LOCAL_HOSTS : [])]);
  const anyHost = options.mode === 'accounts' && options.allowedHosts.length === 0;
  const localUser = options.mode === 'local' ? users.local() : null;
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const host = request.headers.host ?? '';
    if (!anyHost && !hosts.has(hostName(host)))
      throw new HttpError(403, `host ${JSON.stringify(host)} is not served here (DNS rebinding protection); allowed: ${[...hosts].join(', ')}`);

    const origin = request.headers.origin;
    const isWebSocket = (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if ((CHANGING.has(request.method) || isWebSocket) && origin !== undefined && !sameOrigin(origin, host) && !options.allowedOrigins.includes(origin)) {
      throw new HttpError(403, `cross-origin request from ${JSON.stringify(origin)} refused`);
    }
    if (
      request.headers['sec-fetch-site'] === 'cross-site' &&
      (CHANGING.has(request.method) || isWebSocket) &&
      !(origin && options.allowedOrigins.includes(origin))
    ) {
      throw new HttpError(403, 'cross-site request refused');
    }

    if (request.url === '/openapi.json' || request.url === '/api/health' || (request.method === 'GET' && isWebAppPath(request.url))) {
      request.user = localUser ?? ({ id: '', name: '', role: 'user', createdAt: 0 } as User);
      return;
    }
    if (localUser) {
      request.user = localUser;
      return;
    }
    const auth = request.headers.authorization ?? '';
    const token =
      /^Bearer\s+(\S+)$/i.exec(auth)?.[1] ??
      (typeof request.query === 'object' && request.query !== null && isWebSocket ? (request.query as Record<string, string>).token : undefined);
    const cookie = !token && (request.method === 'GET' || request.method === 'HEAD' || isWebSocket) ? sessionCookie(request.headers.cookie) : null;
    const user = token ? users.authenticate(token) : cookie ? sessions.verify(cookie) : null;
    if (!user)
      throw new HttpError(
        401,
        token
          ? 'the API token is not valid'
          : cookie
            ? 'the browser session has expired or its token was revoked: sign in again with your API token'
            : 'this server needs an API token: send Authorization: Bearer <token>',
      );
    request.user = user;
  };
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
