/**
 * An exclusive lock on a training run folder, so two legs of one run never train side by side (both would
 * write checkpoint.safetensors and history.jsonl). Whichever queue dispatches the legs (in-process, or a
 * render farm where a resumed leg may reach another worker before the stopped one's process is dead),
 * the leg takes the lock before it reads the checkpoint and holds it until its process exits.
 *
 * The lock is a file `<run>/.train.lock` created with 'wx' (atomic: exactly one creator wins) holding the
 * holder's host, pid and start time. A stale lock (its leg was killed and could not clean up) is taken over;
 * a live holder is waited for, up to a bound, then a clear error naming the holder's pid and host.
 *
 * When is a lock stale?
 * - Held on this host: when its pid is not alive (exact; a leg blocked in a long computation stays live).
 * - Held on another host (a render farm sharing the runs folder): its pid cannot be checked from here, so the
 *   holder beats a heartbeat instead, touching the lock file's mtime every RUN_LOCK_HEARTBEAT_MS; the lock
 *   is stale once its mtime is older than RUN_LOCK_STALE_MS (10 min: 20 missed beats, far beyond any pause
 *   of a live leg's event loop, and beyond clock differences between hosts kept by NTP). A lock of another
 *   host that is not that old yet is waited for, and the error names that host.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GessoError } from '../core/errors.ts';

export const RUN_LOCK_FILE = '.train.lock';
/** How long a leg waits for the run's previous leg to let go, by default. */
export const RUN_LOCK_WAIT_MS = 120_000;
/** How often a holder touches its lock file to show it is alive (for legs on other hosts). */
export const RUN_LOCK_HEARTBEAT_MS = 30_000;
/** A lock of another host whose heartbeat is older than this is stale. */
export const RUN_LOCK_STALE_MS = 10 * 60_000;
const POLL_MS = 200;
/** A takeover marker older than this was left by a process that died mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;

export interface RunLockHolder {
  host: string;
  pid: number;
  /** When the holder took the lock (ms since the epoch). */
  startedAt: number;
  /** Tells this holder's lock from an earlier one of a reused pid. */
  token: string;
}

export interface RunLock {
  readonly path: string;
  readonly holder: RunLockHolder;
  /** Removes the lock if it is still this one (idempotent). */
  release(): void;
}

/** The run folder is held by another live leg and did not free within the wait. */
export class RunLockedError extends GessoError {
  constructor(
    readonly runDir: string,
    readonly holder: RunLockHolder | null,
    waitedMs: number,
  ) {
    const who = holder ? `pid ${holder.pid} on ${holder.host}, since ${new Date(holder.startedAt).toISOString()}` : 'an unknown holder';
    const elsewhere =
      holder && holder.host !== hostname()
        ? `; a lock of another host is taken over once its heartbeat is ${RUN_LOCK_STALE_MS / 60_000} min old (that host's leg died)`
        : '';
    super(
      `training run folder ${runDir} is locked by another training leg (${who}); waited ${Math.round(waitedMs / 1000)} s for it to end${elsewhere}. Stop that leg, or remove ${join(runDir, RUN_LOCK_FILE)} if no such process exists`,
    );
    this.name = 'RunLockedError';
  }
}

/** The lock's holder as written in the file, or null (no lock, or a file cut short while being written). */
export function readRunLock(runDir: string): RunLockHolder | null {
  try {
    const h = JSON.parse(readFileSync(join(runDir, RUN_LOCK_FILE), 'utf8')) as Partial<RunLockHolder>;
    if (typeof h.host !== 'string' || typeof h.pid !== 'number' || typeof h.startedAt !== 'number' || typeof h.token !== 'string') return null;
    return h as RunLockHolder;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** See the file's comment: a dead pid on this host, or a heartbeat older than `staleMs` from another host. */
function isStale(runDir: string, holder: RunLockHolder, staleMs: number): boolean {
  if (holder.host === hostname()) return !pidAlive(holder.pid);
  try {
    return Date.now() - statSync(join(runDir, RUN_LOCK_FILE)).mtimeMs > staleMs;
  } catch {
    return false; // gone meanwhile: the next try creates it
  }
}

/** Creates the lock file if none exists; false when another holder has it. */
function tryCreate(path: string, holder: RunLockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale lock. The takeover marker (itself 'wx') lets one process at a time judge and remove it,
 * so a lock just created by a faster taker is never removed by a slower one that saw the stale one.
 */
function takeOverStale(runDir: string, staleMs: number): void {
  const marker = join(runDir, `${RUN_LOCK_FILE}.takeover`);
  try {
    closeSync(openSync(marker, 'wx'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(marker).mtimeMs > TAKEOVER_STALE_MS) unlinkSync(marker);
    } catch {
      // removed by its owner meanwhile
    }
    return;
  }
  try {
    const holder = readRunLock(runDir);
    if (holder && isStale(runDir, holder, staleMs)) unlinkSync(join(runDir, RUN_LOCK_FILE));
  } finally {
    unlinkSync(marker);
  }
}

export interface RunLockOptions {
  /** How long to wait for a live holder (default RUN_LOCK_WAIT_MS). */
  waitMs?: number;
  /** Age of another host's heartbeat after which its lock is stale (default RUN_LOCK_STALE_MS). */
  staleMs?: number;
  /** How often this holder beats its heartbeat (default RUN_LOCK_HEARTBEAT_MS). */
  heartbeatMs?: number;
}

/**
 * Takes the run folder's lock, waiting up to `waitMs` for a live holder to let go; throws RunLockedError
 * when it does not. While held, the lock file's mtime is refreshed every `heartbeatMs`. The lock is also
 * released when the process exits normally or on SIGTERM/SIGINT; a SIGKILLed holder leaves it behind,
 * stale, for the next leg to take over.
 */
export async function acquireRunLock(runDir: string, options: RunLockOptions = {}): Promise<RunLock> {
  const waitMs = options.waitMs ?? RUN_LOCK_WAIT_MS;
  const staleMs = options.staleMs ?? RUN_LOCK_STALE_MS;
  const path = join(runDir, RUN_LOCK_FILE);
  const holder: RunLockHolder = { host: hostname(), pid: process.pid, startedAt: Date.now(), token: randomBytes(8).toString('hex') };
  const started = performance.now();
  for (;;) {
    if (tryCreate(path, holder)) break;
    const current = readRunLock(runDir);
    if (current && isStale(runDir, current, staleMs)) {
      takeOverStale(runDir, staleMs);
      continue;
    }
    const waited = performance.now() - started;
    if (waited >= waitMs) throw new RunLockedError(runDir, current, waited);
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, waitMs - waited)));
  }
  return holdLock(runDir, path, holder, options.heartbeatMs ?? RUN_LOCK_HEARTBEAT_MS);
}

function holdLock(runDir: string, path: string, holder: RunLockHolder, heartbeatMs: number): RunLock {
  let held = true;
  const heartbeat = setInterval(() => {
    try {
      if (readRunLock(runDir)?.token !== holder.token) return; // taken over: not ours to touch
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // removed meanwhile; the next beat looks again
    }
  }, heartbeatMs);
  heartbeat.unref(); // the heartbeat alone never keeps a process alive
  const release = (): void => {
    if (!held) return;
    held = false;
    clearInterval(heartbeat);
    process.off('exit', release);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Someone may have taken it over (they judged us dead): never remove their lock.
    if (readRunLock(runDir)?.token !== holder.token) return;
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    release();
    process.kill(process.pid, signal); // the handlers are gone: the signal now ends the process as usual
  };
  process.on('exit', release);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return { path, holder, release };
}
