/**
 * Low-rank adapters on a built model (LoRA, Hu et al. 2021): the model's own parameters are frozen and
 * each chosen Linear gets y += (alpha / r) · (x downᵀ) upᵀ with down (r, in) and up (out, r) trainable.
 * up starts at zero so training starts from the model exactly; down starts as PyTorch's Linear init
 * (uniform ±1/√in), as kohya's sd-scripts does. Parameters are named by kohya's keys, so the trained
 * values are written to a LoRA file as they are.
 */
import { Rng } from '../../core/rng.ts';
import { Graph, Tensor } from '../../graph/graph.ts';
import { Linear } from '../../nn/linear.ts';
import { kohyaKey, type LoraComponent, type LoraModule } from '../../weights/lora-file.ts';

/** diffusers' attention projections in the UNet's transformer blocks (kohya's default LoRA targets). */
export const UNET_ATTENTION_TARGETS = /\.attn[12]\.(to_q|to_k|to_v|to_out\.0)$/;

/** transformers' CLIP attention projections in the text encoder's layers. */
export const TEXT_ATTENTION_TARGETS = /\.self_attn\.(q_proj|k_proj|v_proj|out_proj)$/;

export interface AttachedLora {
  component: LoraComponent;
  linear: Linear;
  key: string;
  rank: number;
  alpha: number;
}

/** Every Linear reachable from a model object (its fields, arrays and nested layers), sorted by name. */
export function findLinears(root: object): Linear[] {
  const found = new Map<string, Linear>();
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || v instanceof Tensor || v instanceof Graph) return;
    seen.add(v);
    if (v instanceof Linear) found.set(v.name, v);
    else for (const child of Object.values(v)) visit(child);
  };
  visit(root);
  return [...found.keys()].sort().map((name) => found.get(name) as Linear);
}

/** Freezes every parameter of the graph that is not a LoRA's. */
export function freezeAll(g: Graph): void {
  for (const [name, p] of g.params) g.params.set(name, { ...p, trainable: false });
}

export function attachLora(
  g: Graph,
  component: LoraComponent,
  linears: readonly Linear[],
  options: { rank: number; alpha: number; seed: number },
): AttachedLora[] {
  const rng = new Rng(options.seed);
  return linears.map((linear) => {
    const [outF, inF] = linear.weight.shape as [number, number];
    const key = kohyaKey(component, linear.name);
    const r = options.rank;
    const bound = 1 / Math.sqrt(inF);
    const downInit = Float32Array.from({ length: r * inF }, () => (2 * rng.uniform() - 1) * bound);
    const down = g.param(`${key}.lora_down.weight`, [r, inF], downInit); // (r, in)
    const up = g.param(`${key}.lora_up.weight`, [outF, r], new Float32Array(outF * r)); // (out, r)
    linear.lora = { down, up, scale: options.alpha / r };
    return { component, linear, key, rank: r, alpha: options.alpha };
  });
}

/** The adapters' current values as LoRA file modules. */
export function loraModules(attached: readonly AttachedLora[], values: ReadonlyMap<string, Float32Array>): LoraModule[] {
  return attached.map((a) => {
    const [outF, inF] = a.linear.weight.shape as [number, number];
    const get = (name: string): Float32Array => values.get(name) ?? new Float32Array(0);
    return {
      key: a.key,
      component: a.component,
      down: { shape: [a.rank, inF], data: get(`${a.key}.lora_down.weight`) },
      up: { shape: [outF, a.rank], data: get(`${a.key}.lora_up.weight`) },
      rank: a.rank,
      alpha: a.alpha,
    };
  });
}
