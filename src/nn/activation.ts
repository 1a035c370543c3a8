/** Activation layers, as classes so they fit `Sequential`; the ops themselves live in graph/ops. */
import type { Tensor } from '../graph/graph.ts';
import { add, gelu, mul, silu, tanh } from '../graph/ops/index.ts';
import { expectInput } from './layer.ts';

function checkFloat(label: string, x: Tensor): void {
  expectInput(x.dtype === 'float32', label, 'a float32 tensor', x);
}

/** x * sigmoid(x) */
export class SiLU {
  forward(x: Tensor): Tensor {
    checkFloat('SiLU', x);
    return silu(x);
  }
}

/**
 * GELU. 'none' is exact, x/2 (1 + erf(x / sqrt 2)); 'tanh' is the approximation
 * x/2 (1 + tanh(sqrt(2/π) (x + 0.044715 x³))) (Hendrycks & Gimpel, 2016), as PyTorch's `approximate`.
 */
export class GELU {
  constructor(readonly config: { approximate?: 'none' | 'tanh' } = {}) {}

  forward(x: Tensor): Tensor {
    checkFloat('GELU', x);
    if (this.config.approximate !== 'tanh') return gelu(x);
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  }
}
