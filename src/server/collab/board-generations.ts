/**
 * A generation started on a board is everyone's: its entry goes into the board's `generations` map
 * (so members who join later see it), its live previews go to every member over the board's WebSocket
 * (transient notices, not stored), and its images are added to the collection and placed on the board
 * when it finishes.
 */
import * as Y from 'yjs';
import type { JsonValue } from '../../core/json.ts';
import type { User } from '../../studio/users.ts';
import { type GenerateParams, publicJob, submitGenerate } from '../generate-service.ts';
import type { JobProgress, JobRecord } from '../queue/types.ts';
import type { Studio } from '../studio.ts';
import type { BoardDocs } from './board-docs.ts';

interface Tracked {
  boardId: string;
  user: User;
  running: boolean;
}

export class BoardGenerations {
  private readonly tracked = new Map<string, Tracked>();
  private readonly onProgress = (job: { id: string }, progress: JobProgress) => {
    const t = this.tracked.get(job.id);
    if (!t) return;
    // The job may have started before it was tracked (its "running" event came during submit).
    if (!t.running) {
      t.running = true;
      this.boards.change(t.boardId, (doc) => doc.getMap<Y.Map<JsonValue>>('generations').get(job.id)?.set('state', 'running'));
    }
    this.boards.notify(t.boardId, { type: 'progress', jobId: job.id, progress });
  };
  private readonly onState = (job: JobRecord) => {
    const t = this.tracked.get(job.id);
    if (t) this.finish(t, job);
  };

  constructor(
    private readonly studio: Studio,
    private readonly boards: BoardDocs,
  ) {
    studio.queue.events.on('progress', this.onProgress);
    studio.queue.events.on('state', this.onState);
  }

  /** Owners and editors start a generation for the board (a viewer gets 403 from requireEditor). */
  async start(boardId: string, user: User, params: GenerateParams): Promise<ReturnType<typeof publicJob>> {
    this.studio.collections.requireRole(user.id, boardId, ['owner', 'editor']);
    const job = await submitGenerate(this.studio, user, params);
    this.tracked.set(job.id, { boardId, user, running: false });
    this.boards.change(boardId, (doc) => {
      const entry = new Y.Map<JsonValue>();
      entry.set('prompt', params.prompt);
      entry.set('by', user.name);
      entry.set('state', job.state);
      entry.set('startedAt', Date.now());
      doc.getMap<Y.Map<JsonValue>>('generations').set(job.id, entry);
    });
    return publicJob(job);
  }

  private finish(t: Tracked, job: JobRecord): void {
    if (job.state === 'running') t.running = true;
    const imageIds = job.state === 'done' ? ((job.result as { imageIds?: string[] } | null)?.imageIds ?? []) : [];
    for (const id of imageIds) this.studio.collections.add(t.user.id, t.boardId, id);
    this.boards.change(t.boardId, (doc) => {
      const entry = doc.getMap<Y.Map<JsonValue>>('generations').get(job.id);
      if (entry) {
        entry.set('state', job.state);
        entry.set('imageIds', imageIds);
        if (job.error) entry.set('error', job.error);
      }
      if (imageIds.length > 0) {
        const items = doc.getArray<Record<string, JsonValue>>('items');
        const prompt = (entry?.get('prompt') as string | undefined) ?? '';
        items.push(
          imageIds.map((imageId, i) => ({ imageId, prompt, by: t.user.name, x: ((items.length + i) % 6) * 150, y: Math.floor((items.length + i) / 6) * 150 })),
        );
      }
    });
    if (job.state === 'done' || job.state === 'failed' || job.state === 'cancelled') this.tracked.delete(job.id);
  }

  close(): void {
    this.studio.queue.events.off('progress', this.onProgress);
    this.studio.queue.events.off('state', this.onState);
  }
}
