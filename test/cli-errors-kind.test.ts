import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportError } from '../src/cli/report-error.ts';
import { InputError, ShapeError } from '../src/core/errors.ts';
import { Graph } from '../src/graph/graph.ts';
import { matmul } from '../src/graph/ops/index.ts';

function report(err: unknown): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = reportError(err, (l) => lines.push(l));
  return { code, lines };
}

test('a user error prints one line and exits 2', () => {
  const { code, lines } = report(new InputError('--steps must be a whole number from 1 to 1000, got "x"'));
  assert.equal(code, 2);
  assert.deepEqual(lines, ['gesso: --steps must be a whole number from 1 to 1000, got "x"']);
});

test('a shape bug inside gesso is not a user error: stack trace, "this is a bug", exit 1', () => {
  const g = new Graph();
  let caught: unknown;
  try {
    matmul(g.input('a', [2, 3]), g.input('b', [4, 5]));
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ShapeError);
  const { code, lines } = report(caught);
  assert.equal(code, 1);
  assert.match(lines[0] ?? '', /ShapeError: MatMul: inner dims differ[\s\S]*at /);
  assert.match(lines[1] ?? '', /this is a bug in gesso/);
});
