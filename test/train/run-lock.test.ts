// The run-folder lock with real processes: a second holder waits until the first lets go, a lock left by
// a dead pid is taken over, a wait that runs out names the folder and the holder, SIGTERM releases, and
// holders started together on one folder never overlap. Locks of another host: alive while their
// heartbeat (the file's mtime) is fresh, taken over once it is older than RUN_LOCK_STALE_MS.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { acquireRunLock, RUN_LOCK_FILE, RUN_LOCK_STALE_MS, readRunLock, RunLockedError } from '../../src/train/run-lock.ts';

const HOLDER = new URL('./run-lock-holder.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'gesso-run-lock-'));
/** Every holder started, killed at the end (a failed assertion must not leave one holding forever). */
const started: ChildProcess[] = [];
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const newRunDir = (): string => mkdtempSync(join(root, `run${n++}-`));

/** Starts a holder process; resolves once it holds the lock. */
function startHolder(runDir: string, holdMs: number, log: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, runDir, String(holdMs), log], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`holder exited (${code}) before it held the lock`)));
  });
}
const exited = (child: ChildProcess): Promise<void> =>
  new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on('exit', () => r())));

test('a second holder waits until the first releases', async () => {
  const runDir = newRunDir();
  const log = join(runDir, 'log');
  const first = await startHolder(runDir, 1500, log);
  const lock = await acquireRunLock(runDir, { waitMs: 30_000 });
  // The first holder logs "end" before it exits and lets go: its whole hold came before ours. (Its 'exit'
  // event may reach this process a little after the lock is free, so it is awaited, not asserted.)
  assert.match(readFileSync(log, 'utf8'), /^start \d+\nend \d+\n$/, 'the lock was taken while the first holder still held it');
  await exited(first);
  assert.equal(readRunLock(runDir)?.pid, process.pid);
  lock.release();
  assert.ok(!existsSync(join(runDir, RUN_LOCK_FILE)));
});

test('a lock left by a dead pid is taken over at once', async () => {
  const runDir = newRunDir();
  const dead = spawn(process.execPath, ['-e', '']);
  await exited(dead);
  writeFileSync(join(runDir, RUN_LOCK_FILE), JSON.stringify({ host: hostname(), pid: dead.pid, startedAt: Date.now() - 1000, token: 'old' }));
  const lock = await acquireRunLock(runDir, { waitMs: 0 });
  assert.equal(readRunLock(runDir)?.token, lock.holder.token);
  lock.release();
});

test('a wait that runs out names the run folder and the holder; a SIGKILLed holder is then taken over', async () => {
  const runDir = newRunDir();
  const holder = await startHolder(runDir, -1, join(runDir, 'log'));
  await assert.rejects(acquireRunLock(runDir, { waitMs: 600 }), (e: unknown) => {
    assert.ok(e instanceof RunLockedError);
    assert.ok(e.message.includes(runDir), e.message);
    assert.ok(e.message.includes(`pid ${holder.pid} on ${hostname()}`), e.message);
    return true;
  });
  holder.kill('SIGKILL');
  await exited(holder);
  assert.equal(readRunLock(runDir)?.pid, holder.pid, 'a killed holder leaves its lock');
  const lock = await acquireRunLock(runDir, { waitMs: 0 });
  lock.release();
});

test('SIGTERM releases the lock', async () => {
  const runDir = newRunDir();
  const holder = await startHolder(runDir, -1, join(runDir, 'log'));
  holder.kill('SIGTERM');
  await exited(holder);
  assert.equal(holder.signalCode, 'SIGTERM');
  assert.ok(!existsSync(join(runDir, RUN_LOCK_FILE)));
});

test('holders started together on one run folder never overlap', async () => {
  const runDir = newRunDir();
  const log = join(runDir, 'log');
  const holders = await Promise.all([0, 1, 2].map(() => startHolder(runDir, 300, log).then(exited, () => undefined)));
  assert.equal(holders.length, 3);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(lines.length, 6);
  for (let i = 0; i < lines.length; i += 2) {
    const pid = lines[i]?.split(' ')[1];
    assert.deepEqual([lines[i], lines[i + 1]], [`start ${pid}`, `end ${pid}`], lines.join(' | '));
  }
});

/** A lock file as a leg on another machine of a render farm would leave it, its heartbeat `ageMs` old. */
function otherHostLock(runDir: string, ageMs: number): void {
  const path = join(runDir, RUN_LOCK_FILE);
  writeFileSync(path, JSON.stringify({ host: `not-${hostname()}`, pid: 4242, startedAt: Date.now() - ageMs, token: 'far' }));
  const beat = new Date(Date.now() - ageMs);
  utimesSync(path, beat, beat);
}

test("another host's lock with a fresh heartbeat is waited for, and the error names that host", async () => {
  const runDir = newRunDir();
  otherHostLock(runDir, RUN_LOCK_STALE_MS - 60_000); // nine minutes without a beat: maybe alive
  await assert.rejects(acquireRunLock(runDir, { waitMs: 300 }), (e: unknown) => {
    assert.ok(e instanceof RunLockedError);
    assert.ok(e.message.includes(`pid 4242 on not-${hostname()}`), e.message);
    assert.ok(e.message.includes('taken over once its heartbeat is 10 min old'), e.message);
    return true;
  });
  assert.equal(readRunLock(runDir)?.token, 'far', 'the live lock is left alone');
});

test("another host's lock whose heartbeat is older than RUN_LOCK_STALE_MS is taken over at once", async () => {
  const runDir = newRunDir();
  otherHostLock(runDir, RUN_LOCK_STALE_MS + 60_000);
  const lock = await acquireRunLock(runDir, { waitMs: 0 });
  assert.equal(readRunLock(runDir)?.token, lock.holder.token);
  lock.release();
});

test('a holder beats its heartbeat, so legs on other hosts see it alive', async () => {
  const runDir = newRunDir();
  const lock = await acquireRunLock(runDir, { waitMs: 0, heartbeatMs: 50 });
  const path = join(runDir, RUN_LOCK_FILE);
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(path, old, old);
  const deadline = Date.now() + 10_000;
  while (Date.now() - statSync(path).mtimeMs > 60_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(Date.now() - statSync(path).mtimeMs < 60_000, 'the heartbeat refreshed the lock file');
  lock.release();
  assert.ok(!existsSync(path));
});
