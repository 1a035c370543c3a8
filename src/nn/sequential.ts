/** Chains one-input layers: forward(x) = layers[n-1](...layers[0](x)). */
import type { Tensor } from '../graph/graph.ts';
import type { Layer } from './layer.ts';

export class Sequential implements Layer {
  readonly layers: readonly Layer[];

  constructor(...layers: Layer[]) {
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }
}
