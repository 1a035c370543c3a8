/**
 * The studio's SQLite database (better-sqlite3 v12: v13 needs Node 22). WAL mode so readers never wait
 * for the writer; foreign keys on; migrations applied on open.
 */
import Database from 'better-sqlite3';
import { GessoError } from '../core/errors.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // durable at each WAL checkpoint; a crash loses at most the last commits, never corrupts
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  // Statistics for the query planner (which filter index to scan newest-first); cheap when nothing changed.
  db.pragma('optimize = 0x10002');
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new GessoError(`database schema version ${current} is newer than this gesso knows (${MIGRATIONS.length}); upgrade gesso`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
