/**
 * The image library of the studio: every image with how it was made (recipe, model, seed, lineage,
 * provenance) and how its owner judged it (rating 1–5, a separate reject flag, favourite, tags, note).
 * Every read and write is scoped to one user: another user's image is "not found", never "forbidden",
 * so ids do not leak. Images are soft-deleted and can be restored.
 */
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.ts';
import type { Db } from './database.ts';
import type { ImageStore } from './image-store.ts';

export type ImageOrigin = 'generated' | 'imported';

/** What is known about an image when it enters the library. */
export interface NewImage {
  userId: string;
  png: Uint8Array;
  width: number;
  height: number;
  origin: ImageOrigin;
  prompt?: string;
  negativePrompt?: string;
  model?: string | null;
  modelHash?: string | null;
  sampler?: string | null;
  seed?: number | null;
  steps?: number | null;
  cfgScale?: number | null;
  /** gesso's recipe (JSON) when there is one. */
  recipe?: object | null;
  /** The A1111 `parameters` text as found, untrusted. */
  parametersText?: string | null;
  /** Where it came from: digital source type, the reader that understood its metadata, a file name. */
  provenance?: Record<string, unknown>;
  /** sha256 of the image it was made from (img2img, inpainting). */
  parentSha256?: string | null;
  /** The job that made it and its position in the batch: the pair is stored once (retries are idempotent). */
  job?: { id: string; index: number } | null;
  tags?: string[];
  createdAt?: number;
}

export interface ImageRecord {
  id: string;
  sha256: string;
  width: number;
  height: number;
  origin: ImageOrigin;
  prompt: string;
  negativePrompt: string;
  model: string | null;
  modelHash: string | null;
  sampler: string | null;
  seed: number | null;
  steps: number | null;
  cfgScale: number | null;
  recipe: unknown;
  parametersText: string | null;
  provenance: Record<string, unknown>;
  parentSha256: string | null;
  jobId: string | null;
  jobIndex: number | null;
  rating: number | null;
  rejected: boolean;
  favourite: boolean;
  note: string;
  tags: string[];
  createdAt: number;
  deletedAt: number | null;
}

export interface ImageQuery {
  /** Full-text search over prompt, negative prompt, note and tags (FTS5; words are ANDed). */
  text?: string;
  model?: string;
  sampler?: string;
  /** Exact rating, or at least minRating. */
  rating?: number;
  minRating?: number;
  rejected?: boolean;
  favourite?: boolean;
  tag?: string;
  collectionId?: string;
  /** created_at range, milliseconds since the epoch. */
  from?: number;
  to?: number;
  /** true lists the trash (soft-deleted images) instead. */
  deleted?: boolean;
  /** Page size (default 50, at most 500) and the cursor from the previous page. */
  limit?: number;
  cursor?: string;
}

export interface ImagePage {
  images: ImageRecord[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const MAX_PAGE = 500;
export const MAX_TAG_LENGTH = 64;
export const MAX_NOTE_LENGTH = 10_000;
const ID = /^img_[0-9a-f]{20}$/;

interface ImageRow {
  seq: number;
  id: string;
  user_id: string;
  sha256: string;
  width: number;
  height: number;
  prompt: string;
  negative_prompt: string;
  model: string | null;
  model_hash: string | null;
  sampler: string | null;
  seed: number | null;
  steps: number | null;
  cfg_scale: number | null;
  recipe: string | null;
  parameters_text: string | null;
  origin: ImageOrigin;
  provenance: string;
  parent_sha256: string | null;
  job_id: string | null;
  job_index: number | null;
  rating: number | null;
  rejected: number;
  favourite: number;
  note: string;
  created_at: number;
  deleted_at: number | null;
}

export function newImageId(): string {
  return `img_${randomBytes(10).toString('hex')}`;
}

export function checkImageId(id: string): void {
  if (typeof id !== 'string' || !ID.test(id)) throw new InputError(`image id ${JSON.stringify(id)}: expected img_ and 20 hex digits`);
}

export class Library {
  constructor(
    readonly db: Db,
    readonly store: ImageStore,
  ) {}

  /**
   * Stores the PNG and adds it to the library. An image for a (job id, index) already stored is returned
   * as it is (a retried job stores its result once).
   */
  async add(image: NewImage): Promise<ImageRecord> {
    if (image.job) {
      const existing = this.byJob(image.userId, image.job.id, image.job.index);
      if (existing) return existing;
    }
    const sha256 = await this.store.put(image.png);
    const id = newImageId();
    const insert = this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT OR IGNORE INTO images (id, user_id, sha256, width, height, prompt, negative_prompt, model, model_hash, sampler, seed, steps,
             cfg_scale, recipe, parameters_text, origin, provenance, parent_sha256, job_id, job_index, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          image.userId,
          sha256,
          image.width,
          image.height,
          image.prompt ?? '',
          image.negativePrompt ?? '',
          image.model ?? null,
          image.modelHash ?? null,
          image.sampler ?? null,
          image.seed ?? null,
          image.steps ?? null,
          image.cfgScale ?? null,
          image.recipe ? JSON.stringify(image.recipe) : null,
          image.parametersText ?? null,
          image.origin,
          JSON.stringify(image.provenance ?? {}),
          image.parentSha256 ?? null,
          image.job?.id ?? null,
          image.job?.index ?? null,
          image.createdAt ?? Date.now(),
        );
      if (info.changes === 0) return; // another writer stored this job's image first
      const seq = Number(info.lastInsertRowid);
      for (const tag of image.tags ?? []) this.db.prepare('INSERT OR IGNORE INTO tags (image_seq, tag) VALUES (?, ?)').run(seq, normaliseTag(tag));
      this.reindex(seq);
    });
    insert.immediate();
    const stored = image.job ? this.byJob(image.userId, image.job.id, image.job.index) : this.get(image.userId, id);
    if (!stored) throw new Error(`image ${id} was not stored`); // cannot happen: the insert or the earlier one is there
    return stored;
  }

  /** The user's image, or null (also for another user's image, and for deleted ones unless asked). */
  get(userId: string, id: string, options: { includeDeleted?: boolean } = {}): ImageRecord | null {
    checkImageId(id);
    const row = this.db.prepare('SELECT * FROM images WHERE id = ? AND user_id = ?').get(id, userId) as ImageRow | undefined;
    if (!row || (row.deleted_at !== null && !options.includeDeleted)) return null;
    return this.toRecord(row);
  }

  /** Like get(), but a missing image is an InputError naming the id. */
  require(userId: string, id: string, options: { includeDeleted?: boolean } = {}): ImageRecord {
    const image = this.get(userId, id, options);
    if (!image) throw new NotFoundError(`image ${id} not found`);
    return image;
  }

  private byJob(userId: string, jobId: string, index: number): ImageRecord | null {
    const row = this.db.prepare('SELECT * FROM images WHERE job_id = ? AND job_index = ? AND user_id = ?').get(jobId, index, userId) as ImageRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  imagesOfJob(userId: string, jobId: string): ImageRecord[] {
    const rows = this.db.prepare('SELECT * FROM images WHERE job_id = ? AND user_id = ? ORDER BY job_index').all(jobId, userId) as ImageRow[];
    return rows.map((r) => this.toRecord(r));
  }

  /**
   * Lineage by content hash: the user's images this one was made from (same bytes as its init image) and
   * the images made from it, however they were stored or imported.
   */
  lineage(userId: string, id: string): { parents: ImageRecord[]; children: ImageRecord[] } {
    const image = this.require(userId, id);
    const rows = (sql: string, value: string): ImageRecord[] =>
      (this.db.prepare(`SELECT * FROM images WHERE user_id = ? AND deleted_at IS NULL AND ${sql} ORDER BY seq`).all(userId, value) as ImageRow[]).map((r) =>
        this.toRecord(r),
      );
    return {
      parents: image.parentSha256 === null ? [] : rows('sha256 = ?', image.parentSha256),
      children: rows('parent_sha256 = ?', image.sha256),
    };
  }

  async png(userId: string, id: string): Promise<Uint8Array> {
    return this.store.get(this.require(userId, id).sha256);
  }

  search(userId: string, q: ImageQuery = {}): ImagePage {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InputError(`limit ${limit}: expected an integer from 1 to ${MAX_PAGE}`);
    const where: string[] = ['i.user_id = ?'];
    const args: (string | number)[] = [userId];
    /** One condition and its parameter. */
    const add = (condition: string, value: string | number): void => {
      where.push(condition);
      args.push(value);
    };
    where.push(q.deleted ? 'i.deleted_at IS NOT NULL' : 'i.deleted_at IS NULL');
    if (q.text !== undefined && q.text.trim() !== '') {
      where.push('i.seq IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)');
      args.push(ftsQuery(q.text));
    }
    if (q.model !== undefined) add('i.model = ?', q.model);
    if (q.sampler !== undefined) add('i.sampler = ?', q.sampler);
    if (q.rating !== undefined) add('i.rating = ?', checkRating(q.rating));
    if (q.minRating !== undefined) add('i.rating >= ?', checkRating(q.minRating));
    if (q.rejected !== undefined) add('i.rejected = ?', q.rejected ? 1 : 0);
    if (q.favourite !== undefined) add('i.favourite = ?', q.favourite ? 1 : 0);
    if (q.tag !== undefined) add('i.seq IN (SELECT image_seq FROM tags WHERE tag = ?)', normaliseTag(q.tag));
    if (q.collectionId !== undefined) {
      where.push('i.seq IN (SELECT ci.image_seq FROM collection_items ci JOIN collections c ON c.id = ci.collection_id WHERE c.id = ? AND c.user_id = ?)');
      args.push(q.collectionId, userId);
    }
    if (q.from !== undefined) add('i.created_at >= ?', q.from);
    if (q.to !== undefined) add('i.created_at < ?', q.to);
    if (q.cursor !== undefined) {
      if (!/^\d{1,15}$/.test(q.cursor)) throw new InputError(`cursor ${JSON.stringify(q.cursor)}: expected the nextCursor of a previous page`);
      where.push('i.seq < ?');
      args.push(Number(q.cursor));
    }
    const rows = this.db.prepare(`SELECT i.* FROM images i WHERE ${where.join(' AND ')} ORDER BY i.seq DESC LIMIT ?`).all(...args, limit + 1) as ImageRow[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { images: page.map((r) => this.toRecord(r)), nextCursor: rows.length > limit && last ? String(last.seq) : null };
  }

  /** Sets or clears (null) the 1–5 rating. */
  rate(userId: string, id: string, rating: number | null): ImageRecord {
    return this.update(userId, id, 'rating = ?', [rating === null ? null : checkRating(rating)]);
  }

  setRejected(userId: string, id: string, rejected: boolean): ImageRecord {
    return this.update(userId, id, 'rejected = ?', [rejected ? 1 : 0]);
  }

  setFavourite(userId: string, id: string, favourite: boolean): ImageRecord {
    return this.update(userId, id, 'favourite = ?', [favourite ? 1 : 0]);
  }

  setNote(userId: string, id: string, note: string): ImageRecord {
    if (note.length > MAX_NOTE_LENGTH) throw new InputError(`note has ${note.length} characters; at most ${MAX_NOTE_LENGTH}`);
    const image = this.update(userId, id, 'note = ?', [note]);
    return image;
  }

  addTags(userId: string, id: string, tags: string[]): ImageRecord {
    const seq = this.seqOf(userId, id);
    const clean = tags.map(normaliseTag);
    this.db.transaction(() => {
      for (const tag of clean) this.db.prepare('INSERT OR IGNORE INTO tags (image_seq, tag) VALUES (?, ?)').run(seq, tag);
      this.reindex(seq);
    })();
    return this.require(userId, id);
  }

  removeTag(userId: string, id: string, tag: string): ImageRecord {
    const seq = this.seqOf(userId, id);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tags WHERE image_seq = ? AND tag = ?').run(seq, normaliseTag(tag));
      this.reindex(seq);
    })();
    return this.require(userId, id);
  }

  /** Moves the image to the trash (restore() brings it back); the file stays. */
  softDelete(userId: string, id: string): ImageRecord {
    this.seqOf(userId, id);
    this.db.prepare('UPDATE images SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL').run(Date.now(), id, userId);
    return this.require(userId, id, { includeDeleted: true });
  }

  restore(userId: string, id: string): ImageRecord {
    this.seqOf(userId, id, { includeDeleted: true });
    this.db.prepare('UPDATE images SET deleted_at = NULL WHERE id = ? AND user_id = ?').run(id, userId);
    return this.require(userId, id);
  }

  /** Images in the library (not deleted) of one user. */
  count(userId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM images WHERE user_id = ? AND deleted_at IS NULL').get(userId) as { n: number }).n;
  }

  seqOf(userId: string, id: string, options: { includeDeleted?: boolean } = {}): number {
    checkImageId(id);
    const row = this.db.prepare('SELECT seq, deleted_at FROM images WHERE id = ? AND user_id = ?').get(id, userId) as
      | { seq: number; deleted_at: number | null }
      | undefined;
    if (!row || (row.deleted_at !== null && !options.includeDeleted)) throw new NotFoundError(`image ${id} not found`);
    return row.seq;
  }

  private update(userId: string, id: string, set: string, values: (string | number | null)[]): ImageRecord {
    const seq = this.seqOf(userId, id);
    this.db.transaction(() => {
      this.db.prepare(`UPDATE images SET ${set} WHERE seq = ?`).run(...values, seq);
      if (set.startsWith('note')) this.reindex(seq);
    })();
    return this.require(userId, id);
  }

  /** Rewrites the image's full-text row (prompt, negative prompt, note, tags). */
  private reindex(seq: number): void {
    const row = this.db.prepare('SELECT prompt, negative_prompt, note FROM images WHERE seq = ?').get(seq) as
      | { prompt: string; negative_prompt: string; note: string }
      | undefined;
    if (!row) return;
    const tags = (this.db.prepare('SELECT tag FROM tags WHERE image_seq = ?').all(seq) as { tag: string }[]).map((t) => t.tag).join(' ');
    this.db.prepare('DELETE FROM images_fts WHERE rowid = ?').run(seq);
    this.db
      .prepare('INSERT INTO images_fts (rowid, prompt, negative_prompt, note, tags) VALUES (?, ?, ?, ?, ?)')
      .run(seq, row.prompt, row.negative_prompt, row.note, tags);
  }

  private toRecord(row: ImageRow): ImageRecord {
    const tags = (this.db.prepare('SELECT tag FROM tags WHERE image_seq = ? ORDER BY tag').all(row.seq) as { tag: string }[]).map((t) => t.tag);
    return {
      id: row.id,
      sha256: row.sha256,
      width: row.width,
      height: row.height,
      origin: row.origin,
      prompt: row.prompt,
      negativePrompt: row.negative_prompt,
      model: row.model,
      modelHash: row.model_hash,
      sampler: row.sampler,
      seed: row.seed,
      steps: row.steps,
      cfgScale: row.cfg_scale,
      recipe: row.recipe === null ? null : (JSON.parse(row.recipe) as unknown),
      parametersText: row.parameters_text,
      provenance: JSON.parse(row.provenance) as Record<string, unknown>,
      parentSha256: row.parent_sha256,
      jobId: row.job_id,
      jobIndex: row.job_index,
      rating: row.rating,
      rejected: row.rejected === 1,
      favourite: row.favourite === 1,
      note: row.note,
      tags,
      createdAt: row.created_at,
      deletedAt: row.deleted_at,
    };
  }
}

/** A thing that does not exist for this user (or at all): the server answers 404. */
export class NotFoundError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

function checkRating(rating: number): number {
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new InputError(`rating ${rating}: expected an integer from 1 to 5`);
  return rating;
}

export function normaliseTag(tag: string): string {
  const t = typeof tag === 'string' ? tag.trim().toLowerCase() : '';
  if (t === '' || t.length > MAX_TAG_LENGTH || /[\u0000-\u001f]/.test(t)) {
    throw new InputError(`tag ${JSON.stringify(tag)}: expected 1 to ${MAX_TAG_LENGTH} printable characters`);
  }
  return t;
}

/** User text as an FTS5 query: each word quoted (so FTS syntax in it is plain text), all words required. */
export function ftsQuery(text: string): string {
  const words = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (words.length === 0) return '""';
  return words.map((w) => `"${w}"`).join(' ');
}
