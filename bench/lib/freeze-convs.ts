import type { Graph } from '../../src/graph/graph.ts';

/**
 * Freezes every convolution's weight (a rank-4 parameter `<layer>.weight`) and its `<layer>.bias`, so a
 * training step built from `g` computes no conv weight or bias gradient and no optimizer update for them
 * (bench/engine_dw_bound.ts: the step without conv dW). Returns how many parameters were frozen.
 */
export function freezeConvolutions(g: Graph): number {
  const layers = new Set([...g.params.values()].filter((p) => p.tensor.rank === 4 && p.name.endsWith('.weight')).map((p) => p.name.slice(0, -'weight'.length)));
  let frozen = 0;
  for (const [name, p] of g.params) {
    const layer = name.replace(/(weight|bias)$/, '');
    if (p.trainable && layers.has(layer) && name !== layer) {
      g.params.set(name, { ...p, trainable: false });
      frozen++;
    }
  }
  return frozen;
}
