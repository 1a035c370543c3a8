/** A training run's measurements (loss curves, metrics, notes), kept as JSON lines so a resumed run appends. */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export class StageLog {
  private readonly series = new Map<string, [number, number][]>();

  constructor(private readonly path: string) {
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const e = JSON.parse(line) as { series?: string; x?: number; y?: number };
        if (e.series !== undefined && e.x !== undefined && e.y !== undefined) this.push(e.series, e.x, e.y);
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
  }

  note(text: string): void {
    appendFileSync(this.path, `${JSON.stringify({ note: text, at: new Date().toISOString() })}\n`);
    console.log(text);
  }

  get(name: string): readonly [number, number][] {
    return this.series.get(name) ?? [];
  }

  last(name: string): number | undefined {
    const s = this.series.get(name);
    return s && s.length > 0 ? (s[s.length - 1] as [number, number])[1] : undefined;
  }
}
