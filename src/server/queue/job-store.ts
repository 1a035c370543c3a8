/**
 * Job records in SQLite, shared by both queue implementations. claimNext() is the scheduler: among
 * queued jobs it picks the user with the fewest running jobs, then the one served longest ago (so one
 * user's batch of 500 does not starve the others), then that user's highest priority, oldest first.
 */
import { randomBytes } from 'node:crypto';
import { InputError } from '../../core/errors.ts';
import type { JsonObject, JsonValue } from '../../core/json.ts';
import type { Db } from '../../studio/database.ts';
import { NotFoundError } from '../../studio/library.ts';
import type { JobProgress, JobRecord, JobState, SubmitJob } from './types.ts';

const ID = /^job_[0-9A-Za-z_-]{6,64}$/;
export const MAX_PRIORITY = 10;

interface JobRow {
  id: string;
  user_id: string;
  kind: string;
  priority: number;
  state: JobState;
  payload: string;
  result: string | null;
  error: string | null;
  attempts: number;
  progress: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export function checkJobId(id: string): void {
  if (typeof id !== 'string' || !ID.test(id)) throw new InputError(`job id ${JSON.stringify(id)}: expected job_ and 6 to 64 letters, digits, _ or -`);
}

export function newJobId(): string {
  return `job_${randomBytes(10).toString('hex')}`;
}

export class JobStore {
  constructor(readonly db: Db) {}

  /** Inserts the job; an id that exists for the same user returns that job unchanged. */
  insert(job: SubmitJob): { record: JobRecord; created: boolean } {
    const id = job.id ?? newJobId();
    checkJobId(id);
    const priority = job.priority ?? 0;
    if (!Number.isInteger(priority) || Math.abs(priority) > MAX_PRIORITY)
      throw new InputError(`priority ${priority}: expected an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
    const existing = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (existing) {
      if (existing.user_id !== job.userId) throw new InputError(`job id ${id} is taken; choose another`);
      return { record: toRecord(existing), created: false };
    }
    this.db
      .prepare('INSERT INTO jobs (id, user_id, kind, priority, state, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, job.userId, job.kind, priority, 'queued', JSON.stringify(job.payload), Date.now());
    return { record: this.require(id), created: true };
  }

  find(id: string): JobRecord | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  require(id: string): JobRecord {
    const job = this.find(id);
    if (!job) throw new NotFoundError(`job ${id} not found`);
    return job;
  }

  /** The user's job (NotFoundError for another user's). */
  forUser(userId: string, id: string): JobRecord {
    checkJobId(id);
    const job = this.find(id);
    if (!job || job.userId !== userId) throw new NotFoundError(`job ${id} not found`);
    return job;
  }

  list(userId: string, options: { limit?: number; state?: JobState } = {}): JobRecord[] {
    const limit = Math.min(options.limit ?? 100, 1000);
    const rows = options.state
      ? this.db.prepare('SELECT * FROM jobs WHERE user_id = ? AND state = ? ORDER BY seq DESC LIMIT ?').all(userId, options.state, limit)
      : this.db.prepare('SELECT * FROM jobs WHERE user_id = ? ORDER BY seq DESC LIMIT ?').all(userId, limit);
    return (rows as JobRow[]).map(toRecord);
  }

  /** Picks the next job (fair share, then priority) and marks it running; null when none is queued. */
  claimNext(): JobRecord | null {
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare(
            `WITH waiting AS (SELECT DISTINCT user_id FROM jobs WHERE state = 'queued'),
                running AS (SELECT user_id, count(*) AS n FROM jobs WHERE state = 'running' GROUP BY user_id),
                served AS (SELECT w.user_id, (SELECT max(started_at) FROM jobs WHERE user_id = w.user_id) AS last FROM waiting w)
           SELECT j.id FROM jobs j LEFT JOIN running r ON r.user_id = j.user_id LEFT JOIN served s ON s.user_id = j.user_id
           WHERE j.state = 'queued'
           ORDER BY coalesce(r.n, 0), coalesce(s.last, 0), j.priority DESC, j.seq
           LIMIT 1`,
          )
          .get() as { id: string } | undefined;
        if (!row) return null;
        this.db.prepare("UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, progress = NULL WHERE id = ?").run(Date.now(), row.id);
        return this.require(row.id);
      })
      .immediate();
  }

  runningCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM jobs WHERE state = 'running'").get() as { n: number }).n;
  }

  running(): JobRecord[] {
    return (this.db.prepare("SELECT * FROM jobs WHERE state = 'running' ORDER BY seq").all() as JobRow[]).map(toRecord);
  }

  /** Records the result unless the job already finished; returns whether this call finished it. */
  complete(id: string, result: JsonValue): boolean {
    const info = this.db
      .prepare("UPDATE jobs SET state = 'done', result = ?, error = NULL, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')")
      .run(JSON.stringify(result), Date.now(), id);
    return info.changes > 0;
  }

  fail(id: string, error: string): boolean {
    const info = this.db
      .prepare("UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')")
      .run(error, Date.now(), id);
    return info.changes > 0;
  }

  /** A running job goes back to the queue (its worker died or the server restarted). */
  requeue(id: string): void {
    this.db.prepare("UPDATE jobs SET state = 'queued', progress = NULL WHERE id = ? AND state = 'running'").run(id);
  }

  requeueAllRunning(): number {
    return this.db.prepare("UPDATE jobs SET state = 'queued', progress = NULL WHERE state = 'running'").run().changes;
  }

  /** Marks a queued or running job cancelled; returns its state before. */
  cancel(id: string): JobState {
    const before = this.require(id).state;
    this.db.prepare("UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state IN ('queued', 'running')").run(Date.now(), id);
    return before;
  }

  setProgress(id: string, progress: JobProgress): void {
    const { preview: _preview, ...rest } = progress; // previews go to listeners only
    this.db.prepare("UPDATE jobs SET progress = ? WHERE id = ? AND state = 'running'").run(JSON.stringify(rest), id);
  }
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    priority: row.priority,
    state: row.state,
    payload: JSON.parse(row.payload) as JsonObject,
    result: row.result === null ? null : (JSON.parse(row.result) as JsonValue),
    error: row.error,
    attempts: row.attempts,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as JobProgress),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
