import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT, packageRelative } from '../src/core/paths.ts';

test('packageRelative: a path inside the package is recorded relative to it, any other path as it is', () => {
  assert.equal(packageRelative(join(PACKAGE_ROOT, '.cache/eval/classifier-1.safetensors')), join('.cache', 'eval', 'classifier-1.safetensors'));
  assert.equal(packageRelative(join(PACKAGE_ROOT, 'models', 'gesso-clipart-v1')), join('models', 'gesso-clipart-v1'));
  assert.equal(packageRelative('/tmp/elsewhere/model'), '/tmp/elsewhere/model');
  // The root itself and a sibling folder whose name starts like it are not "inside".
  assert.equal(packageRelative(PACKAGE_ROOT), PACKAGE_ROOT);
  const sibling = `${PACKAGE_ROOT.replace(/\/$/, '')}-other/x`;
  assert.equal(packageRelative(sibling), sibling);
});
