/**
 * The training-data register: datasets built by `gesso data` (manifest.jsonl: each file's source and
 * licence) are registered with each file's sha256; licences are classed open / restrictive / unknown, and
 * a dataset with restrictive or unknown files needs a recorded decision (include them or exclude them)
 * before it counts as cleared for training. Models record the datasets they were trained on, so an
 * image's provenance reaches the licences of the data behind its model.
 */
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { readManifest } from '../data/dataset.ts';
import { sha256File } from '../weights/hash.ts';
import type { Db } from './database.ts';
import { NotFoundError } from './library.ts';

export type LicenceStatus = 'open' | 'restrictive' | 'unknown';
export type DatasetDecision = 'include' | 'exclude';

export interface LicenceSummary {
  /** Files per licence text, as the manifest gives it. */
  byLicence: Record<string, number>;
  open: number;
  restrictive: number;
  unknown: number;
}

export interface DatasetRecord {
  id: string;
  files: number;
  licences: LicenceSummary;
  /** True when some files are restrictive or unknown. */
  flagged: boolean;
  /** The choice recorded for flagged files, or null when none was made yet. */
  decision: DatasetDecision | null;
  decidedBy: string | null;
  /** Usable for training: nothing flagged, or a decision recorded. */
  cleared: boolean;
  registeredAt: number;
}

export interface DatasetFile {
  file: string;
  sha256: string;
  source: string;
  licence: string;
  licenceStatus: LicenceStatus;
}

const OPEN = /^(cc0|cc0-1\.0|public[ -]domain|pd|pdm|cc-by-(sa-)?\d(\.\d)?|mit|apache-2\.0|bsd-[23]-clause|ofl-1\.1|unlicense)$/i;
const RESTRICTIVE = /(\bnc\b|-nc-|\bnd\b|-nd-|non-?commercial|no-?deriv|proprietary|all rights reserved)/i;

/** How a licence text reads for training: open (permits it), restrictive (limits it) or unknown. */
export function classifyLicence(licence: string): LicenceStatus {
  const text = licence.trim();
  if (text === '' || /^unknown$/i.test(text)) return 'unknown';
  if (RESTRICTIVE.test(text)) return 'restrictive';
  return OPEN.test(text) ? 'open' : 'unknown';
}

const DATASET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class DataRegister {
  constructor(readonly db: Db) {}

  /** Registers (or re-registers) the dataset in `dir` under `id`: reads its manifest and hashes every file. */
  async register(id: string, dir: string, userId: string): Promise<DatasetRecord> {
    if (!DATASET_ID.test(id)) throw new InputError(`dataset id ${JSON.stringify(id)}: expected a folder name (letters, digits, . _ -)`);
    const items = readManifest(dir);
    const files: DatasetFile[] = [];
    for (const item of items) {
      files.push({
        file: item.file,
        sha256: await sha256File(join(dir, item.file)),
        source: item.source,
        licence: item.licence,
        licenceStatus: classifyLicence(item.licence),
      });
    }
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM dataset_files WHERE dataset_id = ?').run(id);
      // Re-registering changes the files: an earlier decision no longer applies.
      this.db
        .prepare(
          'INSERT INTO datasets (id, registered_at, registered_by) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET registered_at = excluded.registered_at, registered_by = excluded.registered_by, decision = NULL, decided_by = NULL, decided_at = NULL',
        )
        .run(id, Date.now(), userId);
      const insert = this.db.prepare('INSERT INTO dataset_files (dataset_id, file, sha256, source, licence, licence_status) VALUES (?, ?, ?, ?, ?, ?)');
      for (const f of files) insert.run(id, f.file, f.sha256, f.source, f.licence, f.licenceStatus);
    })();
    return this.get(id);
  }

  list(): DatasetRecord[] {
    return (this.db.prepare('SELECT id FROM datasets ORDER BY id').all() as { id: string }[]).map((r) => this.get(r.id));
  }

  get(id: string): DatasetRecord {
    const row = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as
      | { id: string; registered_at: number; decision: DatasetDecision | null; decided_by: string | null }
      | undefined;
    if (!row) throw new NotFoundError(`dataset ${JSON.stringify(id)} is not registered`);
    const licences = this.summary([id]);
    const files = licences.open + licences.restrictive + licences.unknown;
    const flagged = licences.restrictive + licences.unknown > 0;
    return {
      id,
      files,
      licences,
      flagged,
      decision: row.decision,
      decidedBy: row.decided_by,
      cleared: !flagged || row.decision !== null,
      registeredAt: row.registered_at,
    };
  }

  files(id: string, options: { flaggedOnly?: boolean; limit?: number } = {}): DatasetFile[] {
    this.get(id);
    const rows = this.db
      .prepare(
        `SELECT file, sha256, source, licence, licence_status FROM dataset_files WHERE dataset_id = ? ${options.flaggedOnly ? "AND licence_status != 'open'" : ''} ORDER BY file LIMIT ?`,
      )
      .all(id, options.limit ?? 10_000) as { file: string; sha256: string; source: string; licence: string; licence_status: LicenceStatus }[];
    return rows.map((r) => ({ file: r.file, sha256: r.sha256, source: r.source, licence: r.licence, licenceStatus: r.licence_status }));
  }

  /** Records what to do with the flagged files before training; who decided is kept. */
  decide(id: string, decision: DatasetDecision, userId: string): DatasetRecord {
    if (decision !== 'include' && decision !== 'exclude') throw new InputError(`decision ${JSON.stringify(decision)}: expected "include" or "exclude"`);
    this.get(id);
    this.db.prepare('UPDATE datasets SET decision = ?, decided_by = ?, decided_at = ? WHERE id = ?').run(decision, userId, Date.now(), id);
    return this.get(id);
  }

  /** Records that `modelId` was trained on these datasets (replacing what was recorded). */
  recordModel(modelId: string, datasetIds: string[]): void {
    for (const d of datasetIds) this.get(d);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM model_datasets WHERE model_id = ?').run(modelId);
      for (const d of datasetIds)
        this.db.prepare('INSERT INTO model_datasets (model_id, dataset_id, recorded_at) VALUES (?, ?, ?)').run(modelId, d, Date.now());
    })();
  }

  /** The datasets a model was trained on, with their licences together. */
  modelProvenance(modelId: string): { model: string; datasets: DatasetRecord[]; licences: LicenceSummary; cleared: boolean } {
    const ids = (this.db.prepare('SELECT dataset_id FROM model_datasets WHERE model_id = ? ORDER BY dataset_id').all(modelId) as { dataset_id: string }[]).map(
      (r) => r.dataset_id,
    );
    const datasets = ids.map((d) => this.get(d));
    return { model: modelId, datasets, licences: this.summary(ids), cleared: datasets.length > 0 && datasets.every((d) => d.cleared) };
  }

  private summary(datasetIds: string[]): LicenceSummary {
    const out: LicenceSummary = { byLicence: {}, open: 0, restrictive: 0, unknown: 0 };
    for (const id of datasetIds) {
      const rows = this.db
        .prepare('SELECT licence, licence_status, count(*) AS n FROM dataset_files WHERE dataset_id = ? GROUP BY licence, licence_status')
        .all(id) as { licence: string; licence_status: LicenceStatus; n: number }[];
      for (const r of rows) {
        out.byLicence[r.licence] = (out.byLicence[r.licence] ?? 0) + r.n;
        out[r.licence_status] += r.n;
      }
    }
    return out;
  }
}
