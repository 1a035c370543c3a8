/** Provenance inside animated WebP and GIF: written by encodeRgbAnimation, read back by gesso and by sharp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { embedAnimationMetadata, readAnimationMetadata } from '../../src/image/animation-metadata.ts';
import { readImageInfoFromBytes } from '../../src/image/read-info.ts';
import { COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA, readXmpFields } from '../../src/image/xmp.ts';
import { encodeRgbAnimation } from '../../src/pipelines/explore-output.ts';

const [W, H] = [12, 8];
const frames = [0, 1, 2].map((k) => Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 7 + k * 40) % 256));
// Long enough that the GIF comment needs several 255-byte sub-blocks; quotes and < & test the XML escaping.
const recipe = { format: 'gesso.style-sequence', method: 'fast', note: 'a <b> & "c"', styles: Array.from({ length: 30 }, (_, i) => `style-${i}.png`) };

async function decodedFrames(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes, { pages: -1 }).raw().toBuffer();
}

for (const format of ['webp', 'gif'] as const) {
  test(`${format}: the recipe and IPTC provenance go inside the file, and the frames stay the same`, async () => {
    const plain = await encodeRgbAnimation(format, frames, W, H);
    const tagged = await encodeRgbAnimation(format, frames, W, H, { metadata: { source: 'edited', recipe } });
    assert.ok(tagged.length > plain.length);
    assert.deepEqual(await decodedFrames(tagged), await decodedFrames(plain));
    const meta = await sharp(tagged).metadata();
    assert.equal(meta.pages, 3);

    const found = readAnimationMetadata(tagged);
    assert.deepEqual(found.recipe, recipe);
    assert.equal(readXmpFields(found.xmp ?? '').digitalSourceType, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA);
    if (format === 'gif') assert.deepEqual(JSON.parse(found.comments[0] ?? ''), recipe);
    // An independent reader: libvips finds WebP's XMP chunk by itself.
    if (format === 'webp') assert.match(meta.xmp?.toString('utf8') ?? '', /compositeWithTrainedAlgorithmicMedia/);

    const info = await readImageInfoFromBytes(tagged, `anim.${format}`);
    assert.deepEqual(info.recipe, recipe);
    assert.equal(info.digitalSourceType, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA);
    assert.deepEqual(readAnimationMetadata(plain).recipe, undefined);
  });
}

test('embedding refuses a file that is not a WebP or GIF, naming it', () => {
  assert.throws(() => embedAnimationMetadata(Uint8Array.from([1, 2, 3]), {}, 'out.bin'), /out\.bin: metadata can be embedded in WebP and GIF files only/);
});

test('a truncated GIF is reported, not misread', async () => {
  const tagged = await encodeRgbAnimation('gif', frames, W, H, { metadata: { recipe } });
  assert.throws(() => readAnimationMetadata(tagged.subarray(0, 400), 'cut.gif'), /cut\.gif: GIF/);
});
