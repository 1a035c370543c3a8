/**
 * Keeps long command lines away from ONNX Runtime. onnxruntime-node 1.30 crashes (SIGSEGV, endless
 * recursion inside libonnxruntime.so) when the process's command line passes ~30 KB, and sooner in
 * worker threads; a 20,000-character prompt did it. So when the arguments are long, `gesso` writes
 * them to a private temp file and re-runs itself with a short command line; the child reads the
 * arguments back (and deletes the file) before anything loads ORT.
 *
 * This module must not import onnxruntime-node (directly or through other gesso modules).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** Environment variable naming the file that holds the relayed arguments (a JSON array of strings). */
export const ARGS_FILE_ENV = 'GESSO_ARGS_FILE';
/** Command lines longer than this many bytes are relayed (ORT's crash starts near 30 KB, lower in workers). */
export const MAX_DIRECT_ARGV_BYTES = 4096;

function argvBytes(args: readonly string[]): number {
  return args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/** Whether `args` (the arguments after the script) would make the process's command line too long for ORT. */
export function needsRelay(args: readonly string[]): boolean {
  return argvBytes([...process.execArgv, process.execPath, ...args]) > MAX_DIRECT_ARGV_BYTES;
}

/**
 * When the arguments are long: runs `script` again in a child with a short command line, waits for it and
 * resolves to its exit code. Otherwise resolves to null (the caller goes on in this process).
 */
export async function relayLongArgv(script: string, args: readonly string[] = process.argv.slice(2)): Promise<number | null> {
  if (process.env[ARGS_FILE_ENV] !== undefined || !needsRelay(args)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'gesso-args-'));
  const file = join(dir, 'args.json');
  writeFileSync(file, JSON.stringify(args), { mode: 0o600 });
  const child = spawn(process.execPath, [...process.execArgv, script], { stdio: 'inherit', env: { ...process.env, [ARGS_FILE_ENV]: file } });
  // Ctrl-C in a terminal reaches the child too (same process group): let it decide (generate stops
  // between steps). Signals sent to this process alone are passed on.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

/** The command's arguments: relayed ones when this process was started by relayLongArgv, else argv. */
export function cliArguments(): string[] {
  const file = process.env[ARGS_FILE_ENV];
  if (file === undefined) return process.argv.slice(2);
  delete process.env[ARGS_FILE_ENV]; // not for any process this one starts
  const dir = dirname(file);
  // Only a file relayLongArgv made: never read or delete elsewhere because of a stray variable.
  if (dirname(dir) !== tmpdir() || !basename(dir).startsWith('gesso-args-') || basename(file) !== 'args.json') {
    throw new Error(`${ARGS_FILE_ENV}=${file} is not a file gesso made; unset it`);
  }
  const args: unknown = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  rmdirSync(dir);
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string')) throw new Error(`${file}: expected a JSON array of strings`);
  return args;
}
