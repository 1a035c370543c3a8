/**
 * Collections (boards) of images. The owner can share a board with other users as editor (add and remove
 * their own images) or viewer (look only); nobody else learns it exists.
 */
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { Db } from './database.ts';
import { NotFoundError, type ImageRecord, type Library } from './library.ts';

export type BoardRole = 'owner' | 'editor' | 'viewer';

export interface Collection {
  id: string;
  name: string;
  ownerId: string;
  /** The asking user's role. */
  role: BoardRole;
  size: number;
  createdAt: number;
}

const ID = /^col_[0-9a-f]{16}$/;
const MAX_NAME = 200;

export function checkCollectionId(id: string): void {
  if (typeof id !== 'string' || !ID.test(id)) throw new InputError(`collection id ${JSON.stringify(id)}: expected col_ and 16 hex digits`);
}

export class Collections {
  constructor(
    readonly db: Db,
    readonly library: Library,
  ) {}

  create(userId: string, name: string): Collection {
    const clean = typeof name === 'string' ? name.trim() : '';
    if (clean === '' || clean.length > MAX_NAME) throw new InputError(`collection name ${JSON.stringify(name)}: expected 1 to ${MAX_NAME} characters`);
    const exists = this.db.prepare('SELECT 1 FROM collections WHERE user_id = ? AND name = ?').get(userId, clean);
    if (exists) throw new InputError(`you already have a collection named ${JSON.stringify(clean)}`);
    const id = `col_${randomBytes(8).toString('hex')}`;
    this.db.prepare('INSERT INTO collections (id, user_id, name, created_at) VALUES (?, ?, ?, ?)').run(id, userId, clean, Date.now());
    return this.get(userId, id);
  }

  /** Collections the user owns or was given a role on. */
  list(userId: string): Collection[] {
    const rows = this.db
      .prepare(
        `SELECT c.id FROM collections c LEFT JOIN collection_members m ON m.collection_id = c.id AND m.user_id = ?
         WHERE c.user_id = ? OR m.user_id IS NOT NULL ORDER BY c.created_at`,
      )
      .all(userId, userId) as { id: string }[];
    return rows.map((r) => this.get(userId, r.id));
  }

  get(userId: string, id: string): Collection {
    const role = this.roleOf(userId, id);
    const row = this.db.prepare('SELECT id, name, user_id, created_at FROM collections WHERE id = ?').get(id) as {
      id: string;
      name: string;
      user_id: string;
      created_at: number;
    };
    const size = (
      this.db
        .prepare('SELECT count(*) AS n FROM collection_items ci JOIN images i ON i.seq = ci.image_seq WHERE ci.collection_id = ? AND i.deleted_at IS NULL')
        .get(id) as { n: number }
    ).n;
    return { id: row.id, name: row.name, ownerId: row.user_id, role, size, createdAt: row.created_at };
  }

  /** The user's role on the collection; NotFoundError when they have none. */
  roleOf(userId: string, id: string): BoardRole {
    checkCollectionId(id);
    const row = this.db
      .prepare(
        'SELECT c.user_id AS owner, m.role AS role FROM collections c LEFT JOIN collection_members m ON m.collection_id = c.id AND m.user_id = ? WHERE c.id = ?',
      )
      .get(userId, id) as { owner: string; role: BoardRole | null } | undefined;
    if (!row || (row.owner !== userId && row.role === null)) throw new NotFoundError(`collection ${id} not found`);
    return row.owner === userId ? 'owner' : (row.role as BoardRole);
  }

  /** Adds the user's own image (owner or editor). */
  add(userId: string, id: string, imageId: string): Collection {
    this.requireRole(userId, id, ['owner', 'editor']);
    const seq = this.library.seqOf(userId, imageId);
    this.db.prepare('INSERT OR IGNORE INTO collection_items (collection_id, image_seq, added_at) VALUES (?, ?, ?)').run(id, seq, Date.now());
    return this.get(userId, id);
  }

  remove(userId: string, id: string, imageId: string): Collection {
    this.requireRole(userId, id, ['owner', 'editor']);
    const seq = this.itemSeq(id, imageId);
    this.db.prepare('DELETE FROM collection_items WHERE collection_id = ? AND image_seq = ?').run(id, seq);
    return this.get(userId, id);
  }

  /** Owner only: gives `memberId` a role (or takes it away with null). */
  share(userId: string, id: string, memberId: string, role: 'editor' | 'viewer' | null): Collection {
    this.requireRole(userId, id, ['owner']);
    if (memberId === userId) throw new InputError('the owner of a collection cannot change their own role');
    if (role === null) this.db.prepare('DELETE FROM collection_members WHERE collection_id = ? AND user_id = ?').run(id, memberId);
    else
      this.db
        .prepare('INSERT INTO collection_members (collection_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET role = excluded.role')
        .run(id, memberId, role);
    return this.get(userId, id);
  }

  /** The collection's images (any owner's), newest first, for anyone with a role. */
  items(userId: string, id: string, limit = 500): ImageRecord[] {
    this.roleOf(userId, id);
    const rows = this.db
      .prepare(
        `SELECT i.id, i.user_id FROM collection_items ci JOIN images i ON i.seq = ci.image_seq
         WHERE ci.collection_id = ? AND i.deleted_at IS NULL ORDER BY ci.added_at DESC, i.seq DESC LIMIT ?`,
      )
      .all(id, limit) as { id: string; user_id: string }[];
    return rows.map((r) => this.library.require(r.user_id, r.id));
  }

  /** An image seen through a collection the user has a role on (shared boards show others' images). */
  imageVia(userId: string, id: string, imageId: string): ImageRecord {
    this.roleOf(userId, id);
    this.itemSeq(id, imageId);
    const owner = this.db.prepare('SELECT user_id FROM images WHERE id = ?').get(imageId) as { user_id: string };
    return this.library.require(owner.user_id, imageId);
  }

  private itemSeq(id: string, imageId: string): number {
    const row = this.db
      .prepare('SELECT i.seq FROM collection_items ci JOIN images i ON i.seq = ci.image_seq WHERE ci.collection_id = ? AND i.id = ?')
      .get(id, imageId) as { seq: number } | undefined;
    if (!row) throw new NotFoundError(`image ${imageId} is not in collection ${id}`);
    return row.seq;
  }

  requireRole(userId: string, id: string, allowed: BoardRole[]): void {
    const role = this.roleOf(userId, id);
    if (!allowed.includes(role)) throw new ForbiddenError(`your role on collection ${id} is ${role}; this needs ${allowed.join(' or ')}`);
  }
}

/** The user may see the thing but not do this to it: the server answers 403. */
export class ForbiddenError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenError';
  }
}
