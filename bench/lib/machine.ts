/** What a benchmark result was measured on: date, CPU, cores, versions. */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';

export interface MachineInfo {
  date: string;
  /** CPUs this process may use (what `nproc` prints). */
  nproc: number;
  cpuModel: string;
  /** The widest x86 vector extension the CPU reports (avx512f, avx2, …). */
  simd: string;
  memoryGiB: number;
  node: string;
  gitCommit: string;
  /** 1-minute load average when this was read: above `nproc`, other work competed for the CPUs. */
  loadAverage: number;
}

/** The `model name` of the first CPU in a /proc/cpuinfo text, or 'unknown'. */
export function cpuModelFrom(cpuinfo: string): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return match ? match[1].trim() : 'unknown';
}

/** The widest SIMD extension in the first CPU's `flags` line of a /proc/cpuinfo text. */
export function simdFrom(cpuinfo: string): string {
  const match = /^flags\s*:\s*(.+)$/m.exec(cpuinfo);
  const flags = new Set(match ? match[1].split(/\s+/) : []);
  for (const ext of ['avx512f', 'avx2', 'avx', 'sse4_2']) if (flags.has(ext)) return ext;
  return 'unknown';
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export function machineInfo(): MachineInfo {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  let gitCommit = 'unknown';
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout: the section says 'unknown'
  }
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpuModelFrom(cpuinfo),
    simd: simdFrom(cpuinfo),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    gitCommit,
    loadAverage: currentLoad(),
  };
}

/** The 1-minute load average, rounded to 0.1. */
export function currentLoad(): number {
  return Math.round(loadavg()[0] * 10) / 10;
}

/** A warning when the load average says other work shared the CPUs, else null. */
export function busyWarning(loads: readonly number[], nproc: number): string | null {
  const worst = Math.max(...loads);
  if (worst <= nproc) return null;
  return `machine busy: 1-minute load average up to ${worst} on ${nproc} CPUs during the run; times are inflated and ratios unreliable (engines suffer unequally from contention)`;
}

/** The installed version of an npm package, read from its package.json under node_modules. */
export function packageVersion(name: string): string {
  const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
  try {
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'not installed';
  }
}
