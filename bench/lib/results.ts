/**
 * The one-JSON-line report every engine peer prints (PyTorch, tfjs) and its validation: a peer runs
 * as a child process, so its output is checked field by field before the table trusts it.
 */
import { GessoError } from '../../src/core/errors.ts';
import { WORKLOADS, type WorkloadName } from './workloads.ts';

/** Timed rounds of one step (forward or training), or why the step was not run. */
/** `cpuMs`: the process's CPU time per round, where the peer measures it (steadier on a shared machine). */
export type StepResult = { ms: number[]; cpuMs?: number[]; backend?: string } | { skipped: string };

export interface WorkloadResult {
  forward: StepResult;
  train: StepResult;
  /** Parameter count as the peer's own model reports it (a cross-check of the spec). */
  params?: number;
}

export interface PeerReport {
  peer: string;
  versions: Record<string, string>;
  threads: number;
  notes: string[];
  workloads: Partial<Record<WorkloadName, WorkloadResult>>;
  /** The peer's 2048³ float32 MatMul, if it measures one. */
  matmul?: { ms: number[] };
}

export function isTimed(step: StepResult): step is { ms: number[]; cpuMs?: number[]; backend?: string } {
  return 'ms' in step;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function msArray(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)) {
    throw new GessoError(`${where}: expected a non-empty array of times in ms, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** Checks one step's result: `{ms: [...], backend?}` or `{skipped}`; throws naming `where`. */
export function parseStepResult(v: unknown, where: string): StepResult {
  if (!isObject(v)) throw new GessoError(`${where}: expected {ms: [...]} or {skipped: "..."}, got ${JSON.stringify(v)}`);
  if (typeof v.skipped === 'string') return { skipped: v.skipped };
  const step: StepResult = { ms: msArray(v.ms, `${where}.ms`) };
  if (v.cpu_ms !== undefined) step.cpuMs = msArray(v.cpu_ms, `${where}.cpu_ms`);
  if (typeof v.backend === 'string') step.backend = v.backend;
  return step;
}

/** Checks a peer's parsed JSON line; throws a GessoError naming the first bad field. */
export function parsePeerReport(value: unknown, source: string): PeerReport {
  if (!isObject(value)) throw new GessoError(`${source}: expected a JSON object, got ${JSON.stringify(value)}`);
  if (typeof value.peer !== 'string') throw new GessoError(`${source}: field "peer" must be a string`);
  if (typeof value.threads !== 'number') throw new GessoError(`${source}: field "threads" must be a number`);
  const versions: Record<string, string> = {};
  if (isObject(value.versions)) {
    for (const [k, v] of Object.entries(value.versions)) versions[k] = String(v);
  }
  const notes = Array.isArray(value.notes) ? value.notes.map(String) : [];
  if (!isObject(value.workloads)) throw new GessoError(`${source}: field "workloads" must be an object`);
  const workloads: Partial<Record<WorkloadName, WorkloadResult>> = {};
  for (const name of WORKLOADS) {
    const w = value.workloads[name];
    if (w === undefined) continue;
    if (!isObject(w)) throw new GessoError(`${source}: workloads.${name} must be an object`);
    const result: WorkloadResult = {
      forward: parseStepResult(w.forward, `${source}: workloads.${name}.forward`),
      train: parseStepResult(w.train, `${source}: workloads.${name}.train`),
    };
    if (typeof w.params === 'number') result.params = w.params;
    workloads[name] = result;
  }
  const report: PeerReport = { peer: value.peer, versions, threads: value.threads, notes, workloads };
  if (value.matmul !== undefined) {
    if (!isObject(value.matmul)) throw new GessoError(`${source}: field "matmul" must be an object`);
    report.matmul = { ms: msArray(value.matmul.ms, `${source}: matmul.ms`) };
  }
  return report;
}
