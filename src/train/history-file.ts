/** Loss-line files (JSON lines with a `step`) that trainers append to, kept consistent with their checkpoint. */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../weights/file-io.ts';

/**
 * Drops the lines past `step`, and a line cut by a killed run (atomically): a run resumed from its
 * checkpoint at `step` (0: none) takes the later steps again, so each step keeps one line.
 */
export function keepHistoryUpTo(path: string, step: number): void {
  if (!existsSync(path)) return;
  const stepOf = (line: string): number => {
    try {
      const row = JSON.parse(line) as { step?: unknown };
      return typeof row.step === 'number' ? row.step : Number.POSITIVE_INFINITY;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  const lines = readFileSync(path, 'utf8').split('\n');
  const kept = lines.filter((line) => line.trim() !== '' && stepOf(line) <= step);
  if (kept.length === lines.filter((l) => l.trim() !== '').length && lines.at(-1) === '') return; // nothing to drop
  writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}
