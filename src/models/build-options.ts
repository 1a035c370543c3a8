/** How a model's parameters start, shared by every architecture's build function. */
import type { WeightInit } from '../nn/index.ts';

export interface BuildWeights {
  /** Seeds the random initial weights; default 0. */
  seed?: number;
  /**
   * 'pytorch' (default): PyTorch's default init. 'zeros': all zero, and cheap: zero-filled arrays take
   * no memory until written (counting shapes and FLOPs, or loading trained weights next).
   */
  init?: WeightInit;
}
