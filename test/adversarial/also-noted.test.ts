// "Also noted" in issue 8: a bad text chunk costs only that chunk; hardlinked model copies get a message
// that says how to copy, and links that stay inside the model folder are fine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readImageInfo } from '../../src/image/read-info.ts';
import { validateOnnxFile } from '../../src/weights/onnx-external-data.ts';
import { badUtf8Png, scratch } from './hostile-inputs.ts';

const DEFAULT_MODEL = new URL('../../models/gesso-clipart-v1/', import.meta.url).pathname;

test('an iTXt chunk that is not UTF-8 is skipped with a warning; the rest of the image is read', async () => {
  const info = await readImageInfo(badUtf8Png(join(scratch('utf8'), 'bad.png')));
  assert.equal(info.parametersText, 'a cat\nSteps: 20, Seed: 1');
  assert.ok(
    info.warnings.some((w) => /iTXt at byte \d+ \(keyword "Comment"\) is not valid UTF-8; that chunk was skipped/.test(w)),
    info.warnings.join('; '),
  );
});

test('a cp -al copy of a model is refused with how to copy it; hard links inside the folder are accepted', () => {
  const dir = scratch('links');
  try {
    // Links are made between scratch copies only: a link to the repository's own model would make it refused.
    const own = join(dir, 'own');
    execFileSync('cp', ['-r', DEFAULT_MODEL, own]);
    const linked = join(dir, 'linked');
    execFileSync('cp', ['-al', own, linked]);
    assert.throws(
      () => validateOnnxFile(join(linked, 'unet', 'model.onnx')),
      /has 2 hard links, some outside the model folder \(a `cp -al` or deduplicated copy\?\); .*make it an independent copy \(`cp ".*model\.onnx_data" ".*model\.onnx_data\.copy" && mv/,
    );
    rmSync(linked, { recursive: true });
    linkSync(join(own, 'unet', 'model.onnx_data'), join(own, 'unet', 'weights-backup.bin'));
    assert.ok(validateOnnxFile(join(own, 'unet', 'model.onnx')).externalBytes > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
