import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without declarations
import { checkLayers } from '../scripts/check-layers.mjs';

const check = checkLayers as (root: string) => string[];

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gesso-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test("gesso's own sources follow the layer rule", () => {
  assert.deepEqual(check('src'), []);
});

test('an upward import, onnxruntime-node outside runtime/ and an unknown folder are each reported', () => {
  const root = tree({
    'core/rng.ts': "import { Graph } from '../graph/graph.ts';\n",
    'graph/graph.ts': "// import { x } from '../cli/main.ts'; (a comment is not an import)\nexport class Graph {}\n",
    'pipelines/run.ts': "import * as ort from 'onnxruntime-node';\n",
    'mystery/a.ts': 'export const a = 1;\n',
  });
  const problems = check(root);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems.join('\n'), /imports \.\.\/graph\/graph\.ts \(src\/graph\/, layer 1\) from src\/core\/ \(layer 0\)/);
  assert.match(problems.join('\n'), /imports onnxruntime-node, which only src\/runtime\/ may import/);
  assert.match(problems.join('\n'), /folder src\/mystery\/ has no layer/);
});

test('koffi (the optional oneDNN binding) may be loaded only in runtime/dnnl/, by import or require', () => {
  const root = tree({
    'runtime/dnnl/library.ts': "const require = createRequire(import.meta.url);\nconst koffi = require('koffi');\n",
    'runtime/session.ts': "const koffi = require('koffi');\n",
    'train/loop.ts': "import koffi from 'koffi';\n",
  });
  const problems = check(root);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems.join('\n'), /runtime\/session\.ts: imports koffi, which only src\/runtime\/dnnl\/ may import/);
  assert.match(problems.join('\n'), /train\/loop\.ts: imports koffi, which only src\/runtime\/dnnl\/ may import/);
});
