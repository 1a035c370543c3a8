/**
 * Pairwise A/B choices: which of two images the user preferred (or a tie). Each one is training data for
 * a taste model, so both ids, the user and the time are kept.
 */
import { InputError } from '../core/errors.ts';
import type { Db } from './database.ts';
import type { Library } from './library.ts';

export type Winner = 'a' | 'b' | 'tie';

export interface Comparison {
  id: number;
  aId: string;
  bId: string;
  winner: Winner;
  createdAt: number;
}

export class Comparisons {
  constructor(
    readonly db: Db,
    readonly library: Library,
  ) {}

  record(userId: string, aId: string, bId: string, winner: Winner): Comparison {
    if (aId === bId) throw new InputError(`a comparison needs two different images; got ${aId} twice`);
    if (!['a', 'b', 'tie'].includes(winner)) throw new InputError(`winner ${JSON.stringify(winner)}: expected "a", "b" or "tie"`);
    this.library.require(userId, aId);
    this.library.require(userId, bId);
    const createdAt = Date.now();
    const info = this.db
      .prepare('INSERT INTO comparisons (user_id, a_id, b_id, winner, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(userId, aId, bId, winner, createdAt);
    return { id: Number(info.lastInsertRowid), aId, bId, winner, createdAt };
  }

  list(userId: string, limit = 1000): Comparison[] {
    const rows = this.db
      .prepare('SELECT id, a_id, b_id, winner, created_at FROM comparisons WHERE user_id = ? ORDER BY id DESC LIMIT ?')
      .all(userId, limit) as {
      id: number;
      a_id: string;
      b_id: string;
      winner: Winner;
      created_at: number;
    }[];
    return rows.map((r) => ({ id: r.id, aId: r.a_id, bId: r.b_id, winner: r.winner, createdAt: r.created_at }));
  }
}
