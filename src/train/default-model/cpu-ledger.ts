/**
 * CPU time spent on a training run across resumed processes: the budget of a default model is counted
 * in CPU-seconds (user + system of the training process, all threads, ONNX Runtime's included), not
 * wall time, because the machine is shared. Kept in `<run>/cpu.json`; each process adds what it used.
 */
import { existsSync } from 'node:fs';
import { InputError } from '../../core/errors.ts';
import { FILE_LIMITS, readTextFile } from '../../core/safe-read.ts';
import { writeFileAtomic } from '../../weights/file-io.ts';

interface LedgerFile {
  /** CPU-seconds of every earlier process of this run, and of this one up to its last write. */
  cpuSeconds: number;
  /** One entry per process: when it started and the CPU-seconds it used (as of its last write). */
  processes: { started: string; cpuSeconds: number }[];
}

export class CpuLedger {
  private readonly base: number;
  private readonly started = new Date().toISOString();
  private readonly previous: LedgerFile['processes'];
  private readonly usageAtStart = process.cpuUsage();
  private lastWrite = 0;

  constructor(private readonly path: string) {
    if (existsSync(path)) {
      let file: LedgerFile;
      try {
        file = JSON.parse(readTextFile(path, 'CPU ledger', FILE_LIMITS.config)) as LedgerFile;
      } catch (err) {
        if (err instanceof InputError) throw err;
        throw new InputError(`${path} is not JSON; the run's CPU ledger is damaged (fix it or delete it to restart the count)`);
      }
      if (!(typeof file.cpuSeconds === 'number' && file.cpuSeconds >= 0) || !Array.isArray(file.processes)) {
        throw new InputError(`${path}: "cpuSeconds" is not a non-negative number or "processes" is not a list`);
      }
      this.base = file.cpuSeconds;
      this.previous = file.processes;
    } else {
      this.base = 0;
      this.previous = [];
    }
  }

  /** CPU-seconds this process has used since the ledger was opened. */
  thisProcess(): number {
    const u = process.cpuUsage(this.usageAtStart);
    return (u.user + u.system) / 1e6;
  }

  /** CPU-seconds of the whole run so far. */
  total(): number {
    return this.base + this.thisProcess();
  }

  /** Writes the ledger, at most every `minSeconds` of wall time (0: now). */
  save(minSeconds = 0): void {
    const now = Date.now();
    if (now - this.lastWrite < minSeconds * 1000) return;
    this.lastWrite = now;
    const mine = Math.round(this.thisProcess());
    const file: LedgerFile = { cpuSeconds: Math.round(this.base + mine), processes: [...this.previous, { started: this.started, cpuSeconds: mine }] };
    writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }
}
