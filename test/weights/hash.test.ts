import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { a1111ModelHash, autoV2, cachedSha256File, sha256File } from '../../src/weights/hash.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-hash-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('sha256 of a file matches the FIPS 180-2 "abc" vector', async () => {
  const path = join(dir, 'abc.bin');
  writeFileSync(path, 'abc');
  assert.equal(await sha256File(path), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('streamed hash of a multi-chunk file equals the one-shot hash', async () => {
  const path = join(dir, 'big.bin');
  const bytes = new Uint8Array(3 * (1 << 20) + 12345).map((_, i) => (i * 31) & 0xff);
  writeFileSync(path, bytes);
  assert.equal(await sha256File(path), createHash('sha256').update(bytes).digest('hex'));
});

test('A1111 model hash is the first 10 hex digits (AutoV2), cached until the file changes', async () => {
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, 'abc');
  assert.equal(autoV2('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'), 'ba7816bf8f');
  assert.equal(await a1111ModelHash(path), 'ba7816bf8f');
  assert.equal(await cachedSha256File(path), await sha256File(path));
  writeFileSync(path, 'abd');
  utimesSync(path, new Date(), new Date(Date.now() + 5000)); // a new mtime even on coarse clocks
  assert.equal(await a1111ModelHash(path), (await sha256File(path)).slice(0, 10));
  assert.notEqual(await a1111ModelHash(path), 'ba7816bf8f');
});
