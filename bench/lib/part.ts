/**
 * A benchmark part run in a child process of its own, so the peak resident memory it reports
 * (`process.resourceUsage().maxRSS`) is that part's alone and parts never share a heap.
 * The child prints one JSON line (its result plus `max_rss_bytes`); the parent reads it back.
 */
import { GessoError } from '../../src/core/errors.ts';
import { runJsonChild, type ChildOptions } from './child.ts';

/** This process's peak resident set size so far, in bytes (Node reports KiB on Linux). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Prints `result` with the process's peak RSS as the one JSON line a part ends with. */
export function printPartResult(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...result, max_rss_bytes: peakRssBytes() })}\n`);
}

export interface PartResult {
  /** The child's fields as it printed them (checked by the caller). */
  fields: Record<string, unknown>;
  /** The child's peak resident memory. */
  maxRssBytes: number;
}

/** Reads a part's JSON line: an object with a positive `max_rss_bytes`; throws naming `source`. */
export function parsePartResult(value: unknown, source: string): PartResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GessoError(`${source}: expected a JSON object, got ${JSON.stringify(value)}`);
  const fields = value as Record<string, unknown>;
  const rss = fields.max_rss_bytes;
  if (typeof rss !== 'number' || !Number.isFinite(rss) || rss <= 0)
    throw new GessoError(`${source}: field "max_rss_bytes" must be a positive number, got ${JSON.stringify(rss)}`);
  return { fields, maxRssBytes: rss };
}

/** Runs `script` (a TypeScript file, through tsx) with `args` in a new Node process. */
export async function runPart(script: string, args: readonly string[], source: string, opts: ChildOptions = {}): Promise<PartResult> {
  const json = await runJsonChild(process.execPath, ['--import', 'tsx', script, ...args], source, { echoStderr: '  ', ...opts });
  return parsePartResult(json, source);
}

/** A number field of a part's result; throws naming the field when it is missing or not finite. */
export function numberField(fields: Record<string, unknown>, name: string, source: string): number {
  const v = fields[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new GessoError(`${source}: field "${name}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** A non-empty array of finite numbers (times in ms, usually). */
export function numbersField(fields: Record<string, unknown>, name: string, source: string): number[] {
  const v = fields[name];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new GessoError(`${source}: field "${name}" must be a non-empty array of numbers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}
