import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GessoError } from '../src/core/errors.ts';

test('errors carry their message', () => {
  assert.equal(new GessoError('bad width 500').message, 'bad width 500');
});
