import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { dominantColors, nameColor } from '../../src/data/color-names.ts';
import { renderSquare } from '../../src/data/render-square.ts';

test('nameColor names the palette by hue, saturation and value', () => {
  const table: [number, number, number, string][] = [
    [255, 0, 0, 'red'],
    [200, 30, 40, 'red'],
    [255, 140, 0, 'orange'],
    [255, 230, 0, 'yellow'],
    [0, 180, 0, 'green'],
    [0, 128, 128, 'blue'], // teal: blue side of cyan
    [30, 60, 220, 'blue'],
    [128, 0, 200, 'purple'],
    [255, 105, 180, 'pink'],
    [255, 192, 203, 'pink'],
    [139, 69, 19, 'brown'],
    [210, 180, 140, 'brown'], // tan
    [150, 100, 90, 'brown'], // dull dark red: cardboard
    [128, 0, 0, 'red'], // maroon
    [10, 10, 10, 'black'],
    [0, 0, 40, 'black'],
    [128, 128, 128, 'gray'],
    [250, 250, 250, 'white'],
  ];
  for (const [r, g, b, want] of table) assert.equal(nameColor(r, g, b), want, `rgb(${r}, ${g}, ${b})`);
});

/** An SVG drawing on a transparent 100×100 page. */
function svg(body: string): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">${body}</svg>`);
}

async function colorsOf(body: string): Promise<string[]> {
  return (await renderSquare(svg(body), true, { size: 32, fit: 'pad' })).colors;
}

test('a pure red square on white is red; blue, green, yellow shapes likewise', async () => {
  // On white: the white ground is not ink, the square is.
  const redOnWhite = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#ffffff' } })
    .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: '#ff0000' } }, left: 10, top: 10 }])
    .png()
    .toBuffer();
  assert.deepEqual((await renderSquare(redOnWhite, false, { size: 32, fit: 'pad' })).colors, ['red']);
  assert.deepEqual(await colorsOf('<circle cx="50" cy="50" r="40" fill="#1040e0"/>'), ['blue']);
  assert.deepEqual(await colorsOf('<polygon points="50,5 95,95 5,95" fill="#00a000"/>'), ['green']);
  assert.deepEqual(await colorsOf('<rect width="100" height="100" fill="yellow"/>'), ['yellow']);
});

test('a red star with a thick black outline is red, then black', async () => {
  const star = '<polygon points="50,5 61,38 95,38 68,59 79,92 50,72 21,92 32,59 5,38 39,38" fill="#e00000" stroke="#000" stroke-width="6"/>';
  assert.deepEqual(await colorsOf(star), ['red', 'black']);
});

test('a small accent is not named; white and empty drawings', async () => {
  const mostlyBlue = '<rect width="100" height="100" fill="#0000ff"/><rect width="15" height="15" fill="#ff0000"/>';
  assert.deepEqual(await colorsOf(mostlyBlue), ['blue']);
  const white = Buffer.alloc(4 * 4 * 4, 255); // opaque white RGBA
  assert.deepEqual(dominantColors(white, 4), ['white']);
  assert.deepEqual(dominantColors(Buffer.alloc(4 * 4 * 4), 4), []); // all transparent
});

test('faint pixels weigh by their alpha', () => {
  // 10 opaque blue pixels, 30 red pixels at alpha 20/255 (under the 1/8 floor): blue only.
  const px = Buffer.alloc(40 * 4);
  for (let i = 0; i < 40; i++) px.set(i < 10 ? [0, 0, 255, 255] : [255, 0, 0, 20], i * 4);
  assert.deepEqual(dominantColors(px, 4), ['blue']);
  // RGB input: every pixel counts fully.
  const rgb = Buffer.from([255, 0, 0, 255, 0, 0, 0, 0, 255]);
  assert.deepEqual(dominantColors(rgb, 3, { minShare: 0.3 }), ['red', 'blue']);
});
