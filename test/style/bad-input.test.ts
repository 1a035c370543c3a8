/**
 * Bad input to style transfer: each case gets a clear error naming the file and what was expected, and
 * no output file is written; odd but valid images (greyscale, CMYK, 16-bit, alpha) work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../src/core/errors.ts';
import { encodeChunk } from '../../src/image/png-chunks.ts';
import { loadImage } from '../../src/style/load-image.ts';
import { stylizeToFile } from '../../src/style/stylize.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-style-bad-'));
const gradient = (w: number, h: number): Buffer => Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i * 7) % 256));
const rgbPng = async (w: number, h: number, name: string): Promise<string> => {
  const p = join(dir, name);
  await sharp(gradient(w, h), { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(p);
  return p;
};

/** A valid PNG whose header declares 20000 × 20000 RGB pixels but holds one tiny IDAT. */
function hugeDeclaredPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(20000, 0);
  ihdr.writeUInt32BE(20000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([sig, encodeChunk('IHDR', ihdr), encodeChunk('IDAT', deflateSync(Buffer.alloc(64))), encodeChunk('IEND', new Uint8Array(0))]);
}

async function refused(run: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('a PNG declaring 20000x20000 is refused from its header, before decoding', async () => {
  const p = join(dir, 'huge.png');
  writeFileSync(p, hugeDeclaredPng());
  const started = performance.now();
  await refused(() => loadImage(p, 'style image'), /huge\.png.*20000x20000.*at most 50 MP/);
  assert.ok(performance.now() - started < 5000, 'refusal should not decode 400 MP');
});

test('an image wider than 4096 px but under 50 MP loads (a 5K photo, a panorama)', async () => {
  const wide = join(dir, 'panorama.png');
  await sharp({ create: { width: 5120, height: 64, channels: 3, background: { r: 0, g: 128, b: 255 } } })
    .png()
    .toFile(wide);
  const img = await loadImage(wide, 'content image');
  assert.equal(img.width, 5120);
  assert.equal(img.height, 64);
});

test('an SVG that references a local file is refused without rendering it', async () => {
  const p = join(dir, 'leak.svg');
  writeFileSync(
    p,
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64"><image xlink:href="file:///etc/hostname" width="64" height="64"/></svg>`,
  );
  await refused(() => loadImage(p, 'style image'), /leak\.svg.*references "file:\/\/\/etc\/hostname".*self-contained/);
  const ok = join(dir, 'ok.svg');
  writeFileSync(
    ok,
    `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><defs><linearGradient id="g"><stop offset="0" stop-color="red"/></linearGradient></defs><rect width="40" height="30" fill="url(#g)"/></svg>`,
  );
  const img = await loadImage(ok, 'style image');
  assert.equal(img.width, 40);
  assert.ok((img.data[0] as number) > 0.9, 'a self-contained SVG renders');
});

test('a truncated JPEG, an unsupported format and a missing file get clear errors', async () => {
  const jpg = join(dir, 'photo.jpg');
  const full = await sharp(gradient(64, 64), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg()
    .toBuffer();
  writeFileSync(jpg, full.subarray(0, Math.floor(full.length / 2)));
  await refused(() => loadImage(jpg, 'content image'), /photo\.jpg/);
  const txt = join(dir, 'notes.png');
  writeFileSync(txt, 'these are not pixels');
  await refused(() => loadImage(txt, 'style image'), /notes\.png.*expected PNG, JPEG, WebP/);
  await refused(() => loadImage(join(dir, 'missing.png'), 'style image'), /missing\.png.*no such file/);
});

test('greyscale, CMYK, 16-bit and alpha images load as RGB in [0, 1]', async () => {
  const grey = join(dir, 'grey.png');
  await sharp(Buffer.alloc(32 * 32, 128), { raw: { width: 32, height: 32, channels: 1 } })
    .png()
    .toFile(grey);
  const cmyk = join(dir, 'cmyk.jpg');
  await sharp(gradient(32, 32), { raw: { width: 32, height: 32, channels: 3 } })
    .toColourspace('cmyk')
    .jpeg()
    .toFile(cmyk);
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const deep = join(dir, 'deep.png');
  await sharp(gradient(32, 32), { raw: { width: 32, height: 32, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toFile(deep);
  assert.equal((await sharp(deep).metadata()).depth, 'ushort');
  const alpha = join(dir, 'alpha.png');
  await sharp(Buffer.from(Array.from({ length: 32 * 32 * 4 }, (_, i) => (i % 4 === 3 ? 0 : 10))), { raw: { width: 32, height: 32, channels: 4 } })
    .png()
    .toFile(alpha);
  for (const p of [grey, cmyk, deep, alpha]) {
    const img = await loadImage(p, 'style image');
    assert.equal(img.data.length, 3 * 32 * 32, p);
    assert.ok(
      img.data.every((v) => v >= 0 && v <= 1),
      p,
    );
  }
  assert.ok(Math.abs(((await loadImage(grey, 'x')).data[0] as number) - 128 / 255) < 0.01, 'grey stays grey');
  assert.ok(((await loadImage(alpha, 'x')).data[0] as number) > 0.99, 'transparent pixels become white');
});

test('a 1x1 style image and a mask of another size are refused, and nothing is written', async () => {
  const content = await rgbPng(48, 40, 'content.png');
  const tiny = await rgbPng(1, 1, 'tiny.png');
  const style = await rgbPng(32, 32, 'style.png');
  const mask = await rgbPng(20, 20, 'mask.png');
  const outDir = mkdtempSync(join(tmpdir(), 'gesso-style-out-'));
  const out = join(outDir, 'out.png');
  await refused(() => stylizeToFile({ content, styles: [{ image: tiny }], method: 'gatys' }, out), /tiny\.png is 1x1.*at least 16x16/);
  await refused(
    () => stylizeToFile({ content, styles: [{ image: style }], method: 'gatys', mask }, out),
    /mask mask\.png is 20x20.*content image's size, 48x40/,
  );
  await refused(() => stylizeToFile({ content, styles: [{ image: style }], method: 'fast' }, out), /needs a style network/);
  await refused(() => stylizeToFile({ content, styles: [{ image: style, weight: -1 }], method: 'gatys' }, out), /weight -1/);
  await refused(() => stylizeToFile({ content, styles: [{ image: style }], method: 'gatys' }, join(outDir, 'out.jpg')), /must end in \.png/);
  assert.deepEqual(readdirSync(outDir), []);
});
