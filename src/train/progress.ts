/** A one-line progress bar for training and sampling: step, loss, rate and ETA, redrawn in place on a TTY. */
export interface ProgressOptions {
  total: number;
  label: string;
  unit?: string;
  stream?: NodeJS.WriteStream;
}

export class ProgressBar {
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
  }

  /** Redraws (at most 10 times a second on a TTY, every 10% otherwise). */
  update(done: number, fields: Record<string, number | string> = {}): void {
    const now = Date.now();
    const tty = this.stream.isTTY === true;
    const finished = done >= this.options.total;
    const tenth = Math.max(1, Math.floor(this.options.total / 10));
    if (!finished && (tty ? now - this.lastDraw < 100 : done % tenth !== 0)) return;
    this.lastDraw = now;
    const line = this.format(done, fields, now);
    if (tty) this.stream.write(`\r${line}\x1b[K${finished ? '\n' : ''}`);
    else this.stream.write(`${line}\n`);
  }

  format(done: number, fields: Record<string, number | string>, now = Date.now()): string {
    const total = this.options.total;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const seconds = (now - this.start) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (total - done) / rate : 0;
    const extras = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`)
      .join('  ');
    const unit = this.options.unit ?? 'it';
    return `${this.options.label} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${done}/${total}  ${extras}  ${rate.toFixed(2)} ${unit}/s  ETA ${formatDuration(eta)}`;
  }
}

export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 1e-3 ? v.toExponential(3) : v.toPrecision(4);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
