// Node module-resolution hook for the tfjs peer only. tfjs-core's npm package ships its gradient
// registrations (dist/register_all_gradients.js) only as bundler-style ESM: relative imports
// without extensions ('./gradients/Abs_grad', '../ops/ops'), which Node refuses. This hook retries
// such imports under tfjs-core/dist as `<spec>.js`, then `<spec>/index.js`. The copy of tfjs-core
// it loads registers into the same global engine and gradient registry as the main bundle.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TFJS_DIST = '/@tensorflow/tfjs-core/dist/';

function isFile(url) {
  const path = fileURLToPath(url);
  return existsSync(path) && statSync(path).isFile();
}

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL ?? '';
  if (parent.includes(TFJS_DIST) && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    for (const candidate of [`${specifier}.js`, `${specifier}/index.js`]) {
      const url = new URL(candidate, parent);
      if (isFile(url)) return nextResolve(url.href, context);
    }
  }
  return nextResolve(specifier, context);
}
