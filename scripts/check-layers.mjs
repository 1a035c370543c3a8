// The architecture's import rule as a check (docs/architecture.md): a folder of src/ imports only
// folders of lower layers, and onnxruntime-node is imported only in src/runtime/. Exits 1 on a violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/** Layer of each folder of src/ (index.ts, the public API, sits on top). Lower layers never import higher ones. */
export const LAYERS = {
  core: 0,
  graph: 1,
  weights: 1,
  schedulers: 1,
  text: 1,
  image: 1,
  runtime: 2, // above graph: it builds small probe models (NCHWc block) with graph's ONNX writer; runtime/dnnl/ is its optional oneDNN backend
  autodiff: 2,
  nn: 2,
  data: 2,
  models: 3,
  tfjs: 3, // TensorFlow.js models read into gesso's graph
  pipelines: 4,
  train: 5,
  style: 6, // style transfer: runs pipelines, trains networks
  taste: 6, // a user's preference model, trained with gesso's engine
  eval: 7,
  studio: 8,
  server: 9,
  cli: 10,
  '(index)': 11,
};
/** npm packages that only one folder (or subfolder) of src/ may import. */
const OWNED_PACKAGES = { 'onnxruntime-node': 'runtime', koffi: 'runtime/dnnl' };

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function folderOf(srcRoot, file) {
  const parts = relative(srcRoot, file).split(sep);
  return parts.length > 1 ? parts[0] : '(index)';
}

/** Import specifiers of a file (static and dynamic imports, require calls), comments removed first (examples in doc comments are not imports). */
function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) specs.push(m[1]);
  return specs;
}

export function checkLayers(srcRoot) {
  const problems = [];
  for (const file of sourceFiles(srcRoot)) {
    const from = folderOf(srcRoot, file);
    const rank = LAYERS[from];
    if (rank === undefined) {
      problems.push(`${relative('.', file)}: folder src/${from}/ has no layer; add it to LAYERS in scripts/check-layers.mjs and to docs/architecture.md`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = folderOf(srcRoot, normalize(join(dirname(file), spec)));
        if (target === from) continue;
        const targetRank = LAYERS[target];
        if (targetRank === undefined || targetRank >= rank) {
          problems.push(
            `${relative('.', file)}: imports ${spec} (src/${target}/, layer ${targetRank ?? '?'}) from src/${from}/ (layer ${rank}); imports must go to lower layers`,
          );
        }
      } else {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        const owner = OWNED_PACKAGES[pkg];
        const inOwner = owner !== undefined && `${relative(srcRoot, file).split(sep).join('/')}`.startsWith(`${owner}/`);
        if (owner !== undefined && !inOwner) {
          problems.push(`${relative('.', file)}: imports ${pkg}, which only src/${owner}/ may import`);
        }
      }
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problems = checkLayers(process.argv[2] ?? 'src');
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`layer check: ${problems.length} import(s) break the architecture (docs/architecture.md)`);
    process.exit(1);
  }
  console.log('layer check: every import goes down a layer; onnxruntime-node only in src/runtime/, koffi only in src/runtime/dnnl/');
}
