import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { InputError } from '../../src/core/errors.ts';
import { crc32, tableCrc32, encodeChunk, encodeTextChunk, insertTextChunks, pngSize, readPngChunks, readPngText } from '../../src/image/png-chunks.ts';

async function plainPng(width = 4, height = 3): Promise<Uint8Array> {
  const pixels = new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 256);
  return new Uint8Array(
    await sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

test('crc32 matches the standard check value', () => {
  // CRC-32/ISO-HDLC of "123456789" is 0xCBF43926 (the catalogue check value).
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  // The IEND chunk's CRC every PNG ends with.
  assert.equal(crc32(new TextEncoder().encode('IEND')), 0xae426082);
  const bytes = new Uint8Array(10007).map((_, i) => (i * 131 + 7) % 256);
  assert.equal(tableCrc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(tableCrc32(bytes, 3, 9000), crc32(bytes, 3, 9000));
});

test('tEXt, zTXt and iTXt (plain and compressed) round trip, before IDAT by default', async () => {
  const png = await plainPng();
  const out = insertTextChunks(png, [
    { keyword: 'plain', text: 'ascii only, line\nbreak' },
    { keyword: 'latin', text: 'café crème', type: 'zTXt' },
    { keyword: 'auto', text: 'snow ❄ and 日本語' },
    { keyword: 'packed', text: '{"big":"' + 'x'.repeat(5000) + '"}', type: 'iTXt', compress: true, languageTag: 'en', translatedKeyword: 'gepackt ✓' },
  ]);
  const texts = readPngText(out);
  assert.deepEqual(
    texts.map((t) => [t.keyword, t.type, t.compressed]),
    [
      ['plain', 'tEXt', false],
      ['latin', 'zTXt', true],
      ['auto', 'iTXt', false],
      ['packed', 'iTXt', true],
    ],
  );
  assert.equal(texts[0]!.text, 'ascii only, line\nbreak');
  assert.equal(texts[1]!.text, 'café crème');
  assert.equal(texts[2]!.text, 'snow ❄ and 日本語');
  assert.equal(texts[3]!.text.length, 5000 + 10);
  assert.equal(texts[3]!.languageTag, 'en');
  assert.equal(texts[3]!.translatedKeyword, 'gepackt ✓');
  const types = readPngChunks(out).map((c) => c.type);
  assert.deepEqual(types.slice(0, 1), ['IHDR']);
  assert.ok(types.lastIndexOf('iTXt') < types.indexOf('IDAT'), `text chunks should precede IDAT: ${types.join(' ')}`);
  assert.equal(types.at(-1), 'IEND');
  assert.deepEqual(pngSize(readPngChunks(out)), { width: 4, height: 3 });
});

test('text can also go just before IEND', async () => {
  const out = insertTextChunks(await plainPng(), [{ keyword: 'late', text: 'after the pixels' }], { before: 'IEND' });
  const types = readPngChunks(out).map((c) => c.type);
  assert.deepEqual(types.slice(-2), ['tEXt', 'IEND']);
  assert.equal(readPngText(out)[0]!.text, 'after the pixels');
});

test('sharp still decodes the PNG and sees the text and XMP chunks', async () => {
  const png = await plainPng(5, 2);
  const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>';
  const out = insertTextChunks(png, [
    { keyword: 'parameters', text: 'a cat\nSteps: 2, Seed: 1, Sampler: Euler' },
    { keyword: 'XML:com.adobe.xmp', text: xmp, type: 'iTXt' },
  ]);
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 5);
  assert.equal(meta.height, 2);
  assert.deepEqual(meta.comments, [{ keyword: 'parameters', text: 'a cat\nSteps: 2, Seed: 1, Sampler: Euler' }]);
  assert.equal(meta.xmpAsString, xmp);
  const decoded = await sharp(out).raw().toBuffer();
  assert.deepEqual(new Uint8Array(decoded), new Uint8Array(await sharp(png).raw().toBuffer()));
});

test('a non-PNG, a truncated PNG, a bad CRC and a missing IEND are clear errors', async () => {
  const png = await plainPng();
  assert.throws(() => readPngChunks(new TextEncoder().encode('GIF89a not a png at all'), 'x.gif'), /x\.gif is not a PNG file: expected the PNG signature/);
  const iend = readPngChunks(png).at(-1)!.offset;
  assert.throws(
    () => readPngChunks(png.subarray(0, iend - 3)),
    (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(err.message, /truncated: chunk IDAT at byte \d+ needs \d+ bytes but only \d+ remain/);
      return true;
    },
  );
  const bad = png.slice();
  const ihdrDataByte = 8 + 8 + 2; // inside IHDR's width field
  bad[ihdrDataByte] ^= 0xff;
  assert.throws(() => readPngChunks(bad), /bad CRC in chunk IHDR at byte 8 \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
  assert.throws(() => readPngChunks(png.subarray(0, iend)), /truncated: it ends at byte \d+, after chunk IDAT, without an IEND chunk/);
});

test('corrupt compressed text names its chunk', async () => {
  const png = await plainPng();
  const iend = readPngChunks(png).at(-1)!.offset;
  const bogus = encodeChunk('zTXt', new Uint8Array([...new TextEncoder().encode('k'), 0, 0, 1, 2, 3, 4]));
  const out = new Uint8Array([...png.subarray(0, iend), ...bogus, ...png.subarray(iend)]);
  assert.throws(() => readPngText(out), /cannot inflate the compressed text of chunk zTXt at byte \d+/);
  // A well-formed zTXt written by another tool reads back.
  const good = encodeChunk('zTXt', new Uint8Array([...new TextEncoder().encode('k'), 0, 0, ...deflateSync(Buffer.from('hello'))]));
  const ok = new Uint8Array([...png.subarray(0, iend), ...good, ...png.subarray(iend)]);
  assert.equal(readPngText(ok)[0]!.text, 'hello');
});

test('bad keywords and non-Latin-1 tEXt are refused when writing', () => {
  assert.throws(() => encodeTextChunk({ keyword: '', text: 'x' }), /keyword "" is invalid/);
  assert.throws(() => encodeTextChunk({ keyword: ' lead', text: 'x' }), /keyword " lead" is invalid/);
  assert.throws(() => encodeTextChunk({ keyword: 'k'.repeat(80), text: 'x' }), /is invalid: expected 1-79/);
  assert.throws(() => encodeTextChunk({ keyword: 'a  b', text: 'x' }), /is invalid/);
  assert.throws(() => encodeTextChunk({ keyword: 'ok', text: 'snow ❄', type: 'tEXt' }), /U\+2744 at index 5, which a Latin-1 text chunk cannot hold/);
  assert.doesNotThrow(() => encodeTextChunk({ keyword: 'k'.repeat(79), text: 'x' }));
});
