/** A training run's measurements (loss curves, metrics, notes), kept as JSON lines so a resumed run appends. */
import { appendFileSync, existsSync, truncateSync } from 'node:fs';
import { InputError } from '../../core/errors.ts';
import { FILE_LIMITS, readTextFile } from '../../core/safe-read.ts';
import type { CpuLedger } from './cpu-ledger.ts';

export class StageLog {
  private readonly series = new Map<string, [number, number][]>();
  private readonly notes: { text: string; at: number }[] = [];

  /** The run's CPU ledger, brought up to date (at most every 30 s) as points are logged. */
  constructor(
    private readonly path: string,
    readonly cpu: CpuLedger | null = null,
  ) {
    if (existsSync(path)) {
      const lines = readTextFile(path, 'training log', FILE_LIMITS.log).split('\n');
      for (const [i, line] of lines.entries()) {
        if (!line.trim()) continue;
        let e: { series?: string; x?: number; y?: number; note?: string; at?: string };
        try {
          e = JSON.parse(line) as typeof e;
        } catch {
          // A kill mid-append leaves the last line cut short: drop it (appends go on after it); elsewhere the log is damaged.
          if (lines.slice(i + 1).every((l) => !l.trim())) {
            console.error(`warning: ${path}: skipped its last line, cut short by an interrupted run (${line.length} characters)`);
            truncateSync(
              path,
              lines.slice(0, i).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0),
            );
            break;
          }
          throw new InputError(`${path}: line ${i + 1} is not JSON; the training log is damaged (fix or delete that line)`);
        }
        if (e.series !== undefined && e.x !== undefined && e.y !== undefined) this.push(e.series, e.x, e.y);
        if (e.note !== undefined && e.at !== undefined) this.notes.push({ text: e.note, at: Date.parse(e.at) });
      }
    }
  }

  private push(name: string, x: number, y: number): void {
    const s = this.series.get(name) ?? [];
    // A resumed run repeats steps after its last checkpoint: keep the newest value per step.
    while (s.length > 0 && (s[s.length - 1] as [number, number])[0] >= x) s.pop();
    s.push([x, y]);
    this.series.set(name, s);
  }

  point(name: string, x: number, y: number): void {
    this.push(name, x, y);
    appendFileSync(this.path, `${JSON.stringify({ series: name, x, y })}\n`);
    this.cpu?.save(30);
  }

  note(text: string): void {
    const at = new Date();
    this.notes.push({ text, at: at.getTime() });
    appendFileSync(this.path, `${JSON.stringify({ note: text, at: at.toISOString() })}\n`);
    this.cpu?.save();
    console.log(text);
  }

  /**
   * Wall-clock minutes from the first note starting with `from` to the last starting with `to`: a stage's
   * whole duration across resumed runs (including any time it sat stopped between them).
   */
  minutesBetween(from: string, to: string): number | undefined {
    const start = this.notes.find((n) => n.text.startsWith(from));
    const end = [...this.notes].reverse().find((n) => n.text.startsWith(to));
    return start && end && end.at >= start.at ? (end.at - start.at) / 60000 : undefined;
  }

  get(name: string): readonly [number, number][] {
    return this.series.get(name) ?? [];
  }

  last(name: string): number | undefined {
    const s = this.series.get(name);
    return s && s.length > 0 ? (s[s.length - 1] as [number, number])[1] : undefined;
  }
}

/** Checkpoint metadata with the run's CPU-seconds so far (none without a ledger); writes the ledger too. */
export function cpuMetadata(log: StageLog): Record<string, string> {
  if (log.cpu === null) return {};
  log.cpu.save();
  return { cpu_seconds: log.cpu.total().toFixed(0) };
}
