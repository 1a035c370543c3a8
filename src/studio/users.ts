/**
 * Accounts and API tokens. Tokens are random 32-byte strings shown once; only their SHA-256 is stored
 * (a token has 256 bits of entropy, so a fast hash is enough). Passwords use scrypt with a per-user salt.
 * In local mode there is one owner, "local", and no token is needed.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { Db } from './database.ts';

export type UserRole = 'admin' | 'user';

export interface User {
  id: string;
  name: string;
  role: UserRole;
  createdAt: number;
}

export const LOCAL_USER = 'local';
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TOKEN_PREFIX = 'gso_';

export class Users {
  constructor(readonly db: Db) {}

  create(name: string, options: { role?: UserRole; password?: string } = {}): User {
    if (typeof name !== 'string' || !NAME.test(name))
      throw new InputError(`user name ${JSON.stringify(name)}: expected 1 to 64 lowercase letters, digits, . _ -`);
    if (this.byName(name)) throw new InputError(`user ${name} exists already`);
    const id = `usr_${randomBytes(8).toString('hex')}`;
    const hash = options.password !== undefined ? hashPassword(options.password) : null;
    this.db
      .prepare('INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, name, options.role ?? 'user', hash, Date.now());
    return this.require(id);
  }

  /** The local owner (created on first use). */
  local(): User {
    return this.byName(LOCAL_USER) ?? this.create(LOCAL_USER, { role: 'admin' });
  }

  byName(name: string): User | null {
    const row = this.db.prepare('SELECT id FROM users WHERE name = ?').get(name) as { id: string } | undefined;
    return row ? this.require(row.id) : null;
  }

  require(id: string): User {
    const row = this.db.prepare('SELECT id, name, role, created_at FROM users WHERE id = ?').get(id) as
      | { id: string; name: string; role: UserRole; created_at: number }
      | undefined;
    if (!row) throw new InputError(`user ${id} not found`);
    return { id: row.id, name: row.name, role: row.role, createdAt: row.created_at };
  }

  /** A new API token for the user; the plain token is returned once and never stored. */
  createToken(userId: string, label = ''): string {
    this.require(userId);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.db
      .prepare('INSERT INTO tokens (id, user_id, token_hash, label, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(`tok_${randomBytes(8).toString('hex')}`, userId, tokenHash(token), label, Date.now());
    return token;
  }

  /** The user a token belongs to, or null (unknown, malformed or revoked). */
  authenticate(token: string): User | null {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const row = this.db.prepare('SELECT user_id FROM tokens WHERE token_hash = ? AND revoked_at IS NULL').get(tokenHash(token)) as
      | { user_id: string }
      | undefined;
    return row ? this.require(row.user_id) : null;
  }

  /** The id of a valid token (what a browser session cookie is tied to), or null. */
  tokenId(token: string): string | null {
    if (!this.authenticate(token)) return null;
    return (this.db.prepare('SELECT id FROM tokens WHERE token_hash = ?').get(tokenHash(token)) as { id: string }).id;
  }

  /** The user of a token id that is not revoked, or null: a session cookie dies with its token. */
  activeTokenUser(tokenId: string): User | null {
    const row = this.db.prepare('SELECT user_id FROM tokens WHERE id = ? AND revoked_at IS NULL').get(tokenId) as { user_id: string } | undefined;
    return row ? this.require(row.user_id) : null;
  }

  revokeTokens(userId: string): void {
    this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(Date.now(), userId);
  }

  checkPassword(name: string, password: string): User | null {
    const row = this.db.prepare('SELECT id, password_hash FROM users WHERE name = ?').get(name) as { id: string; password_hash: string | null } | undefined;
    if (!row?.password_hash) return null;
    const [salt, expected] = row.password_hash.split(':') as [string, string];
    const actual = scryptSync(password, Buffer.from(salt, 'hex'), 32);
    return timingSafeEqual(actual, Buffer.from(expected, 'hex')) ? this.require(row.id) : null;
  }
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function hashPassword(password: string): string {
  if (typeof password !== 'string' || password.length < 8) throw new InputError('password: expected at least 8 characters');
  const salt = randomBytes(16);
  return `${salt.toString('hex')}:${scryptSync(password, salt, 32).toString('hex')}`;
}
