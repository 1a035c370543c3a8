/** Runs bin/gesso.js in a child process with a time limit, so a hang fails the test instead of blocking it. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export const GESSO = new URL('../../bin/gesso.js', import.meta.url).pathname;

export function gesso(args: string[], options: { input?: string; timeoutMs?: number; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [GESSO, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
}
