/**
 * Runs a peer as a child process: its own environment (some variables removed for that child
 * alone), stderr passed through so progress shows, stdout kept so its last JSON line can be read.
 */
import { spawn } from 'node:child_process';
import { GessoError } from '../../src/core/errors.ts';

export interface ChildOptions {
  /** Variables removed from this child's environment only (the parent's stays as it is). */
  unsetEnv?: readonly string[];
  /** Variables set for this child only. */
  setEnv?: Record<string, string>;
  /** Kill the child (SIGKILL) after this many ms. */
  timeoutMs?: number;
  cwd?: string;
  /** Prefix for the child's stderr lines echoed to ours; false keeps them quiet. */
  echoStderr?: string | false;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** A copy of `base` without `unset` and with `set` applied. */
export function childEnv(base: NodeJS.ProcessEnv, unset: readonly string[] = [], set: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of unset) delete env[name];
  return Object.assign(env, set);
}

export function runChild(command: string, args: readonly string[], opts: ChildOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: childEnv(process.env, opts.unsetEnv, opts.setEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (opts.echoStderr !== false) {
        const prefix = opts.echoStderr ?? '';
        process.stderr.write(chunk.replace(/^(?=.)/gm, prefix));
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new GessoError(`could not start ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** The last non-empty line of `stdout`, parsed as JSON; throws a GessoError saying what came instead. */
export function lastJsonLine(stdout: string, source: string): unknown {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const last = lines.at(-1);
  if (last === undefined) throw new GessoError(`${source} printed nothing on stdout; expected one JSON line`);
  try {
    return JSON.parse(last) as unknown;
  } catch {
    throw new GessoError(`${source}: last stdout line is not JSON: ${last.slice(0, 200)}`);
  }
}

/** Runs a child and returns its last JSON line, or throws with its exit status and stderr tail. */
export async function runJsonChild(command: string, args: readonly string[], source: string, opts: ChildOptions = {}): Promise<unknown> {
  const result = await runChild(command, args, opts);
  if (result.timedOut) throw new GessoError(`${source} took longer than ${opts.timeoutMs} ms and was stopped`);
  if (result.code !== 0) {
    const tail = result.stderr.trim().split('\n').slice(-5).join('\n');
    throw new GessoError(`${source} exited with ${result.code ?? result.signal}: ${tail}`);
  }
  return lastJsonLine(result.stdout, source);
}
