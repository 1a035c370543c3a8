/** Spatial upsampling by an integer factor (the resample in a UNet's up path; a conv usually follows). */
import { InputError } from '../core/errors.ts';
import type { Tensor } from '../graph/graph.ts';
import { resize } from '../graph/ops/index.ts';
import { expectInput } from './layer.ts';

export interface UpsampleConfig {
  /** Integer factor; default 2. */
  scale?: number;
  /**
   * 'nearest' (default) copies each pixel into a scale×scale block and has a gradient; 'bilinear'
   * (half-pixel centres, PyTorch's align_corners=False) is forward only: autodiff refuses it.
   */
  mode?: 'nearest' | 'bilinear';
}

export class Upsample {
  readonly scale: number;
  readonly mode: 'nearest' | 'bilinear';

  constructor(config: UpsampleConfig = {}) {
    this.scale = config.scale ?? 2;
    this.mode = config.mode ?? 'nearest';
    if (!Number.isInteger(this.scale) || this.scale < 1) throw new InputError(`Upsample: scale ${this.scale} must be a positive integer`);
    if (this.mode !== 'nearest' && this.mode !== 'bilinear') throw new InputError(`Upsample: mode "${String(this.mode)}" must be 'nearest' or 'bilinear'`);
  }

  /** (N, C, H, W) -> (N, C, H·scale, W·scale) */
  forward(x: Tensor): Tensor {
    expectInput(x.dtype === 'float32' && x.rank === 4, `Upsample (${this.mode} x${this.scale})`, 'float32 (N, C, H, W)', x);
    return resize(x, this.scale, this.mode);
  }
}
