/**
 * Applying LoRAs at load: each adapted weight W of the UNet / text encoder becomes
 *   W + Σ_i weight_i · (alpha_i / r_i) · up_i · down_i
 * (Hu et al. 2021; kohya's and A1111's scale), computed in memory on the ONNX initializers and handed
 * to ORT as bytes: the user's model and LoRA files are never written. Keys map to initializers by the
 * model's own names: kohya's `lora_unet_<path with _>` is the initializer `<path>.weight`.
 *
 * Every LoRA is checked against the model before anything is merged: a key that names no weight, or
 * whose shapes do not fit it, is refused, naming the first such key. A LoRA at weight 0 is checked
 * and then adds nothing, so the model is exactly the one without it.
 */
import { InputError } from '../core/errors.ts';
import { kohyaKey, type LoraComponent, type LoraFile, type LoraModule } from '../weights/lora-file.ts';
import { encodeWithWeights, initializerValues, readOnnxWeights, type OnnxWeights } from '../models/onnx-weights.ts';

export interface WeightedLora {
  file: LoraFile;
  /** The user's multiplier (`<lora:name:0.8>`, `--lora FILE:0.8`). */
  weight: number;
}

/** ONNX files of the components LoRAs may adapt. */
export type LoraTargets = Record<LoraComponent, string>;

/** Merged model bytes per component (null: no LoRA touches it; load the file as it is). */
export type MergedModels = Record<LoraComponent, Uint8Array | null>;

export function mergeLoras(targets: LoraTargets, loras: readonly WeightedLora[]): MergedModels {
  const weights: Partial<Record<LoraComponent, OnnxWeights>> = {};
  const open = (component: LoraComponent): OnnxWeights => (weights[component] ??= readOnnxWeights(targets[component]));
  const merged = loraChanges(open, loras);
  const encode = (component: LoraComponent): Uint8Array | null => {
    const w = weights[component];
    return w && merged[component].size > 0 ? encodeWithWeights(w, merged[component]) : null;
  };
  return { unet: encode('unet'), textEncoder: encode('textEncoder') };
}

/**
 * The merged values of every weight the LoRAs touch, per component (initializer name -> new values);
 * `open` gives a component's weights (read once by the caller).
 */
export function loraChanges(open: (component: LoraComponent) => OnnxWeights, loras: readonly WeightedLora[]): Record<LoraComponent, Map<string, Float32Array>> {
  // 1. Check every module of every LoRA against the model (nothing merged yet).
  const plan: { lora: WeightedLora; module: LoraModule; initializer: string }[] = [];
  for (const lora of loras) {
    if (!Number.isFinite(lora.weight)) throw new InputError(`LoRA ${lora.file.name}: weight ${lora.weight} is not a number`);
    for (const module of lora.file.modules) {
      const w = open(module.component);
      const initializer = initializerFor(w, module);
      if (!initializer) {
        throw new InputError(
          `${lora.file.path}: key "${module.key}" names no weight of this model's ${describe(module.component)} (${w.path}); is the LoRA for another model?`,
        );
      }
      checkShapes(lora.file.path, module, w, initializer);
      plan.push({ lora, module, initializer });
    }
  }
  // 2. Merge, in the order given (the sum is the same in any order up to float rounding).
  const merged: Record<LoraComponent, Map<string, Float32Array>> = { unet: new Map(), textEncoder: new Map() };
  for (const { lora, module, initializer } of plan) {
    if (lora.weight === 0) continue;
    const w = open(module.component);
    const target = merged[module.component];
    const values = target.get(initializer) ?? initializerValues(w, initializer);
    addLowRank(values, module, lora.weight * (module.alpha / module.rank));
    target.set(initializer, values);
  }
  return merged;
}

function describe(component: LoraComponent): string {
  return component === 'unet' ? 'UNet' : 'text encoder';
}

/** The initializer `<path>.weight` whose kohya key is the module's key. */
function initializerFor(w: OnnxWeights, module: LoraModule): string | null {
  for (const name of w.initializers.keys()) {
    if (name.endsWith('.weight') && kohyaKey(module.component, name.slice(0, -'.weight'.length)) === module.key) return name;
  }
  return null;
}

function checkShapes(path: string, module: LoraModule, w: OnnxWeights, initializer: string): void {
  const dims = w.initializers.get(initializer)?.dims ?? [];
  const inner = (s: readonly number[]): number => s.slice(1).reduce((a, b) => a * b, 1);
  // W (out, in[, kh, kw]); down (r, in[, kh, kw]); up (out, r[, 1, 1]).
  const fits = module.up.shape[0] === dims[0] && inner(module.down.shape) === inner(dims) && inner(module.up.shape) === module.rank;
  if (!fits) {
    throw new InputError(
      `${path}: key "${module.key}" has lora_down [${module.down.shape.join(', ')}] and lora_up [${module.up.shape.join(', ')}], which do not fit the model's "${initializer}" [${dims.join(', ')}]`,
    );
  }
}

/** W (out, K) += scale · up (out, r) · down (r, K), in place. */
export function addLowRank(w: Float32Array, module: LoraModule, scale: number): void {
  const r = module.rank;
  const out = module.up.shape[0] as number;
  const k = module.down.data.length / r;
  const up = module.up.data;
  const down = module.down.data;
  for (let o = 0; o < out; o++) {
    const row = o * k;
    for (let j = 0; j < r; j++) {
      const u = scale * (up[o * r + j] as number);
      if (u === 0) continue;
      const d = j * k;
      for (let i = 0; i < k; i++) w[row + i] = (w[row + i] as number) + u * (down[d + i] as number);
    }
  }
}
