/**
 * LoRA files for tests: random rank-2 adapters (alpha 1) on a model's weights, written in the kohya
 * layout gesso reads. A fixture that exercises loading, merging and recording, not a trained LoRA.
 */
import { Rng } from '../../src/core/rng.ts';
import { readOnnxWeights } from '../../src/models/onnx-weights.ts';
import { kohyaKey, type LoraComponent, type LoraModule, writeLoraFile } from '../../src/weights/lora-file.ts';

/** Random adapters on every 2-D weight of `component` in `onnxPath` whose name matches `pattern`. */
export function randomLoraModules(onnxPath: string, component: LoraComponent, pattern: RegExp, seed: number, scale = 0.2): LoraModule[] {
  const w = readOnnxWeights(onnxPath);
  const rng = new Rng(seed);
  return [...w.initializers.entries()]
    .filter(([name, t]) => pattern.test(name) && t.dims?.length === 2)
    .map(([name, t]) => {
      const [out, inF] = t.dims as [number, number];
      const r = 2;
      const random = (n: number): Float32Array => Float32Array.from(rng.normal(n), (v) => scale * v);
      return {
        key: kohyaKey(component, name.slice(0, -'.weight'.length)),
        component,
        down: { shape: [r, inF], data: random(r * inF) },
        up: { shape: [out, r], data: random(out * r) },
        rank: r,
        alpha: 1,
      };
    });
}

/** A LoRA for the UNet's attention query/value weights of the model folder `modelDir`, at `path`. */
export function writeRandomLora(path: string, modelDir: string, seed: number, scale = 0.2): void {
  writeLoraFile(path, randomLoraModules(`${modelDir}/unet/model.onnx`, 'unet', /attn[12]\.to_(q|v)\.weight$/, seed, scale), {
    gesso_base_model: modelDir,
  });
}
