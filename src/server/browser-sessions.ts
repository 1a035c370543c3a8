/**
 * Browser sessions for --listen mode: an <img src>, an EventSource or a WebSocket cannot send an
 * Authorization header, so the web app trades its API token for a short-lived cookie (POST /api/session)
 * that the server accepts on reading requests only (GET/HEAD, and WebSocket upgrades, which the origin
 * check already guards). Changing requests still need the token, so the cookie cannot be used for
 * cross-site request forgery; it is also HttpOnly and SameSite=Strict.
 *
 * Cookie value: `<token id>.<expiry ms>.<HMAC-SHA256 of both>`. The HMAC key is kept in the database
 * (sessions survive a restart); the token must still be valid, so revoking it ends its sessions.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../studio/database.ts';
import type { User, Users } from '../studio/users.ts';

export const SESSION_COOKIE = 'gesso_session';
export const SESSION_TTL_MS = 60 * 60 * 1000;

export class BrowserSessions {
  private readonly key: Buffer;

  constructor(
    db: Db,
    private readonly users: Users,
  ) {
    db.exec('CREATE TABLE IF NOT EXISTS session_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL)');
    db.prepare('INSERT OR IGNORE INTO session_key (id, key) VALUES (1, ?)').run(randomBytes(32));
    this.key = (db.prepare('SELECT key FROM session_key WHERE id = 1').get() as { key: Buffer }).key;
  }

  /** A cookie value for an API token, or null when the token is not valid. */
  issue(token: string, now = Date.now()): { value: string; expiresAt: number } | null {
    const tokenId = this.users.tokenId(token);
    if (!tokenId) return null;
    const expiresAt = now + SESSION_TTL_MS;
    return { value: `${tokenId}.${expiresAt}.${this.mac(`${tokenId}.${expiresAt}`)}`, expiresAt };
  }

  /** The user of a cookie value, or null (malformed, forged, expired, or its token revoked). */
  verify(value: string, now = Date.now()): User | null {
    const [tokenId, expires, mac, ...rest] = value.split('.');
    if (!tokenId || !expires || !mac || rest.length > 0 || !/^\d{1,15}$/.test(expires) || Number(expires) <= now) return null;
    const expected = Buffer.from(this.mac(`${tokenId}.${expires}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return this.users.activeTokenUser(tokenId);
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key).update(text).digest('base64url');
  }
}

/** The session cookie's value from a Cookie header, if any. */
export function sessionCookie(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return null;
}
