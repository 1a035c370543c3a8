// `gesso serve` and `gesso worker` on the command line: help, and clear errors (exit 2) for bad flags,
// a bad Redis URL and an unreachable Redis, leaving no data folder behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/redis.ts';

const GESSO = join(import.meta.dirname, '../../bin/gesso.js');
const gesso = (...args: string[]) => spawnSync(process.execPath, [GESSO, ...args], { encoding: 'utf8', timeout: 60_000 });

test('serve and worker have --help and are listed', () => {
  assert.match(gesso('--help').stdout, /\n {2}serve\s[\s\S]*\n {2}worker\s/);
  assert.match(gesso('serve', '--help').stdout, /--data DIR[\s\S]*--redis URL[\s\S]*--listen ADDR/);
  assert.match(gesso('worker', '--help').stdout, /--redis URL/);
});

test('bad flags and an unreachable Redis are clear errors with exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-cli-serve-'));
  try {
    const data = join(dir, 'data');
    const cases: [string[], RegExp][] = [
      [['serve', '--data', data, '--port', 'abc'], /--port "abc": expected a whole number/],
      [['serve', '--data', data, '--bogus'], /gesso serve: .*--bogus/],
      [['serve', '--data', data, '--redis', 'http://127.0.0.1:1'], /--redis "http:\/\/127.0.0.1:1": expected the redis:\/\/ scheme/],
      [['worker'], /gesso worker needs --redis URL/],
      [['worker', '--redis', 'redis://127.0.0.1:6379', '--lock-seconds', '0'], /--lock-seconds "0": expected 1 to 3600/],
    ];
    for (const [args, message] of cases) {
      const r = gesso(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.ok(!existsSync(data), 'no data folder was created');
    const port = await freePort(); // nothing listens there
    const r = gesso('worker', '--redis', `redis://127.0.0.1:${port}`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /did not answer within 15 s/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
