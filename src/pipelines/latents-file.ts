/**
 * Latents files: a safetensors file with one float32 tensor "latents" of shape (B, C, h, w), in the UNet's
 * latent space. `gesso generate --latents FILE` starts from it (unit-variance noise, as diffusers' `latents`
 * argument); `--save-latents FILE` writes the final latents of a run. A (C, h, w) tensor is one image.
 */
import { InputError } from '../core/errors.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../weights/safetensors.ts';

export const LATENTS_TENSOR = 'latents';

/** One (C, h, w) array per image, and the shape they share. */
export interface LatentsFile {
  items: Float32Array[];
  shape: [number, number, number];
}

export function readLatentsFile(path: string): LatentsFile {
  const file = readSafetensors(path, path);
  const tensor = file.tensors.get(LATENTS_TENSOR);
  if (tensor === undefined) {
    throw new InputError(`${path}: no tensor "${LATENTS_TENSOR}"; found ${[...file.tensors.keys()].join(', ') || 'none'} (expected (B, C, h, w) float32)`);
  }
  const dims = tensor.shape.length === 3 ? [1, ...tensor.shape] : tensor.shape;
  if (dims.length !== 4 || dims.some((d) => d < 1)) throw new InputError(`${path}: "${LATENTS_TENSOR}" is [${tensor.shape.join(', ')}]; expected (B, C, h, w)`);
  const [B, C, h, w] = dims as [number, number, number, number];
  const data = toFloat32(tensor);
  const size = C * h * w;
  return { items: Array.from({ length: B }, (_, b) => data.slice(b * size, (b + 1) * size)), shape: [C, h, w] };
}

export function writeLatentsFile(path: string, items: readonly Float32Array[], shape: readonly [number, number, number]): void {
  const [C, h, w] = shape;
  const data = new Float32Array(items.length * C * h * w);
  items.forEach((x, b) => data.set(x, b * C * h * w));
  writeSafetensors(path, { [LATENTS_TENSOR]: { dtype: 'F32', shape: [items.length, C, h, w], data } });
}
