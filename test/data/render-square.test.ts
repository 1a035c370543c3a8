import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { renderSquare } from '../../src/data/render-square.ts';
import { reframeSvg, svgPageBox } from '../../src/data/svg-frame.ts';

/** Bounds of the non-white pixels of an RGB square. */
function inkBounds(rgb: Buffer, size: number): { left: number; right: number; top: number; bottom: number } {
  let left = size;
  let right = -1;
  let top = size;
  let bottom = -1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = (y * size + x) * 3;
      if (Math.min(rgb[p], rgb[p + 1], rgb[p + 2]) < 200) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return { left, right, top, bottom };
}

/** Bounds within one pixel of the expected ones (edges are anti-aliased). */
function assertNear(got: Record<string, number>, want: Record<string, number>): void {
  for (const k of Object.keys(want)) {
    assert.ok(Math.abs(got[k] - want[k]) <= 1, `${k}: got ${got[k]}, want ${want[k]} (±1)`);
  }
}

function pixel(rgb: Buffer, size: number, x: number, y: number): number[] {
  const p = (y * size + x) * 3;
  return [rgb[p], rgb[p + 1], rgb[p + 2]];
}

test('a wide drawing is centred on white with a margin, aspect kept', async () => {
  const wide = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="#000"/></svg>');
  const r = await renderSquare(wide, true, { size: 64, fit: 'pad' });
  assert.equal(r.rgb.length, 64 * 64 * 3);
  const b = inkBounds(r.rgb, 64);
  // margin 4 px, inner 56 px: 56 × 28 centred -> x 4..59, y 18..45
  assertNear(b, { left: 4, right: 59, top: 18, bottom: 45 });
  assert.deepEqual(pixel(r.rgb, 64, 0, 0), [255, 255, 255]);
  assert.deepEqual(pixel(r.rgb, 64, 32, 32), [0, 0, 0]);
});

test('transparency is flattened onto white, not black', async () => {
  const png = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: { create: { width: 4, height: 10, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, left: 0, top: 0 }])
    .png()
    .toBuffer();
  const r = await renderSquare(png, false, { size: 16, fit: 'crop' });
  assert.deepEqual(pixel(r.rgb, 16, 15, 8), [255, 255, 255]);
  assert.deepEqual(pixel(r.rgb, 16, 1, 8), [255, 0, 0]);
});

test('an SVG drawn outside its page is rendered whole, and a tiny drawing on a big page fills the square', async () => {
  // Half the square lies left of the page (x < 0): rendering the page alone would cut it.
  const offPage = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect x="-50" y="25" width="100" height="50" fill="#00f"/></svg>',
  );
  const a = await renderSquare(offPage, true, { size: 64, fit: 'pad' });
  assertNear(inkBounds(a.rgb, 64), { left: 4, right: 59, top: 18, bottom: 45 });
  const tiny = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm"><rect x="300" y="400" width="20" height="20" fill="#0a0"/></svg>',
  );
  const b = await renderSquare(tiny, true, { size: 64, fit: 'pad' });
  assertNear(inkBounds(b.rgb, 64), { left: 4, right: 59, top: 4, bottom: 59 });
  assert.deepEqual(b.colors, ['green']);
});

test('a photo is centre-cropped with fit crop', async () => {
  // 30 wide × 10 high: left third red, middle green, right third blue -> the crop keeps green.
  const photo = await sharp({ create: { width: 30, height: 10, channels: 3, background: '#ff0000' } })
    .composite([
      { input: { create: { width: 10, height: 10, channels: 3, background: '#00ff00' } }, left: 10, top: 0 },
      { input: { create: { width: 10, height: 10, channels: 3, background: '#0000ff' } }, left: 20, top: 0 },
    ])
    .jpeg({ quality: 100 })
    .toBuffer();
  const r = await renderSquare(photo, false, { size: 8, fit: 'crop' });
  const [red, green, blue] = pixel(r.rgb, 8, 4, 4);
  assert.ok((green as number) > 200 && (red as number) < 60 && (blue as number) < 60, `centre is ${red},${green},${blue}`);
  assert.deepEqual(r.colors, ['green']);
});

test('an empty SVG is blank and a broken file throws', async () => {
  const empty = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50"></svg>');
  assert.equal((await renderSquare(empty, true, { size: 32, fit: 'pad' })).inkFraction, 0);
  await assert.rejects(renderSquare(Buffer.from('not an image'), false, { size: 32, fit: 'pad' }));
  await assert.rejects(renderSquare(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="5"'), true, { size: 32, fit: 'pad' }));
});

test('reframeSvg rewrites only the root tag', () => {
  const text = '<?xml version="1.0"?><svg width="8.5in" height="11in" id="a"><svg width="1" height="2"/></svg>';
  assert.deepEqual(svgPageBox(text, { width: 0, height: 0 }), { x: 0, y: 0, width: 816, height: 1056 });
  const out = reframeSvg(text, { x: -1, y: 2, width: 3, height: 4 }, 30, 40);
  assert.equal(out, '<?xml version="1.0"?><svg width="30" height="40" viewBox="-1 2 3 4" preserveAspectRatio="none" id="a"><svg width="1" height="2"/></svg>');
  assert.deepEqual(svgPageBox('<svg viewBox="10 20 30 40" width="100%">', { width: 0, height: 0 }), { x: 10, y: 20, width: 30, height: 40 });
  assert.deepEqual(svgPageBox('<svg width="100%">', { width: 7, height: 9 }), { x: 0, y: 0, width: 7, height: 9 });
});
