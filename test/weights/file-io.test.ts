import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { writeFileAtomic } from '../../src/weights/file-io.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-file-io-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('writeFileAtomic writes text as UTF-8, bytes as they are, or whatever a writer function writes', () => {
  const text = join(dir, 'text.json');
  writeFileAtomic(text, '{"caption":"café ☕"}\n');
  assert.equal(readFileSync(text, 'utf8'), '{"caption":"café ☕"}\n');

  const bytes = join(dir, 'bytes.bin');
  writeFileAtomic(bytes, new Uint8Array([0, 255, 1, 254]));
  assert.deepEqual([...readFileSync(bytes)], [0, 255, 1, 254]);

  const written = join(dir, 'fd.txt');
  writeFileAtomic(written, (fd) => writeSync(fd, 'by descriptor'));
  assert.equal(readFileSync(written, 'utf8'), 'by descriptor');
  assert.deepEqual(readdirSync(dir).sort(), ['bytes.bin', 'fd.txt', 'text.json'], 'no temp files left');
});

test('writeFileAtomic replaces an existing file whole, and keeps it when the write fails', () => {
  const path = join(dir, 'manifest.jsonl');
  writeFileSync(path, 'old line\nold line\nold line\n');
  writeFileAtomic(path, 'new\n');
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
  assert.throws(
    () =>
      writeFileAtomic(path, () => {
        throw new Error('renderer crashed');
      }),
    /renderer crashed/,
  );
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
  assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')), 'no temp file left');
});

test('writeFileAtomic into a missing folder is an InputError that names the folder', () => {
  const path = join(dir, 'no-such-folder', 'report.json');
  assert.throws(
    () => writeFileAtomic(path, '{}'),
    (e: unknown) => e instanceof InputError && e.message.includes('no-such-folder') && /does not exist/.test(e.message),
  );
});
