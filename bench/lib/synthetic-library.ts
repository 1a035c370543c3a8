/**
 * Fills a library with `n` synthetic image rows (prompts from a small vocabulary, models, samplers,
 * ratings, tags, dates) in one transaction, through the same tables the Library writes. The rows point at
 * made-up hashes: library queries never read image files, so none are written.
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/studio/database.ts';
import { Rng } from '../../src/core/rng.ts';

const SUBJECTS = ['apple', 'star', 'lighthouse', 'cat', 'tree', 'castle', 'flower', 'bottle', 'galaxy', 'river', 'mountain', 'robot', 'bird', 'ship', 'clock'];
const COLOURS = ['red', 'blue', 'green', 'yellow', 'purple', 'black', 'white', 'orange'];
const STYLES = ['watercolor', 'ink drawing', 'oil painting', 'clip art', 'photo', 'pixel art', 'sketch'];
const MODELS = ['gesso-clipart-v1', 'sd15', 'my-finetune', 'anime-v3', 'photo-xl'];
const SAMPLERS = ['Euler a', 'DPM++ 2M Karras', 'DDIM', 'Euler', 'PLMS'];
const TAGS = ['poster', 'keeper', 'client', 'draft', 'series-a'];

export function fillLibrary(db: Db, userId: string, n: number, seed = 1): void {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)] as T;
  const insertImage = db.prepare(
    `INSERT INTO images (id, user_id, sha256, width, height, prompt, negative_prompt, model, sampler, seed, steps, cfg_scale, origin, rating, rejected, favourite, created_at)
     VALUES (?, ?, ?, 256, 256, ?, ?, ?, ?, ?, 20, 7, 'generated', ?, ?, ?, ?)`,
  );
  const insertFts = db.prepare('INSERT INTO images_fts (rowid, prompt, negative_prompt, note, tags) VALUES (?, ?, ?, ?, ?)');
  const insertTag = db.prepare('INSERT OR IGNORE INTO tags (image_seq, tag) VALUES (?, ?)');
  const start = Date.UTC(2026, 0, 1);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const prompt = `a ${pick(COLOURS)} ${pick(SUBJECTS)} and a ${pick(COLOURS)} ${pick(SUBJECTS)}, ${pick(STYLES)}`;
      const negative = rng.uniform() < 0.5 ? 'blurry, watermark' : '';
      const rating = rng.uniform() < 0.3 ? 1 + Math.floor(rng.uniform() * 5) : null;
      const info = insertImage.run(
        `img_${randomBytes(10).toString('hex')}`,
        userId,
        randomBytes(32).toString('hex'),
        prompt,
        negative,
        pick(MODELS),
        pick(SAMPLERS),
        Math.floor(rng.uniform() * 4294967295),
        rating,
        rng.uniform() < 0.05 ? 1 : 0,
        rng.uniform() < 0.02 ? 1 : 0,
        start + i * 60_000,
      );
      const seq = Number(info.lastInsertRowid);
      const tags = rng.uniform() < 0.1 ? [pick(TAGS)] : [];
      for (const t of tags) insertTag.run(seq, t);
      insertFts.run(seq, prompt, negative, '', tags.join(' '));
    }
  })();
}
