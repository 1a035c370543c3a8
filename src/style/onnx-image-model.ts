/**
 * Runs an image-to-image ONNX model with one input and one output of shape (1, 3, H, W), such as the
 * ONNX model zoo's fast-neural-style networks (`input1`/`output1`, declared 1×3×224×224 static, pixel
 * values 0-255), at any image size: the declared input and output dims are rewritten to the image's
 * size in the model bytes (and intermediate shape annotations dropped) before the session is made.
 * Fully convolutional networks then run at that size directly, without tiling seams.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { decodeModel, encodeModel } from '../graph/onnx-proto.ts';
import { Session } from '../runtime/session.ts';
import type { RgbPlanes } from './planes.ts';

export interface ImageModelInfo {
  input: string;
  output: string;
  /** Pixel scale the model takes: 255 for the zoo's 0-255 networks. */
  scale: number;
}

/** Reads `path`, checks it is a one-in one-out (1, 3, H, W) model and returns it resized for width × height. */
export function resizeImageModel(bytes: Uint8Array, width: number, height: number, source: string): { bytes: Uint8Array; info: ImageModelInfo } {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new InputError(`${source}: not an ONNX model (${(e as Error).message})`);
  }
  const graph = model.graph;
  const inits = new Set((graph?.initializer ?? []).map((t) => t.name));
  const inputs = (graph?.input ?? []).filter((i) => !inits.has(i.name));
  const outputs = graph?.output ?? [];
  if (inputs.length !== 1 || outputs.length !== 1) {
    throw new InputError(
      `${source}: has ${inputs.length} inputs and ${outputs.length} outputs; a style network has one image input and one image output (fast-neural-style: input1 -> output1)`,
    );
  }
  for (const v of [inputs[0]!, outputs[0]!]) {
    const dims = v.type?.tensor_type?.shape?.dim ?? [];
    const channels = dims[1]?.dim_value;
    if (dims.length !== 4 || (channels !== undefined && channels !== 0 && Number(channels) !== 3)) {
      throw new InputError(`${source}: "${v.name}" has shape [${dims.map((d) => d.dim_value ?? d.dim_param ?? '?').join(', ')}]; expected (1, 3, H, W)`);
    }
    v.type!.tensor_type!.shape!.dim = [{ dim_value: 1 }, { dim_value: 3 }, { dim_value: height }, { dim_value: width }];
  }
  graph!.value_info = []; // intermediate shapes were inferred at 224×224
  return { bytes: encodeModel(model), info: { input: inputs[0]!.name, output: outputs[0]!.name, scale: 255 } };
}

/** Stylises `image` with the network in `path` (the zoo's fast-neural-style format, or gesso's own). */
export async function runImageModel(path: string, image: RgbPlanes, options: { threads?: number } = {}): Promise<RgbPlanes> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`style network ${JSON.stringify(path)} cannot be read: ${(e as Error).message}`);
  }
  const { width, height } = image;
  const resized = resizeImageModel(bytes, width, height, path);
  const session = await Session.create(resized.bytes, { name: path, ...(options.threads ? { intraOpThreads: options.threads } : {}) });
  try {
    const input = Float32Array.from(image.data, (v) => v * resized.info.scale);
    const out = await session.run({ [resized.info.input]: { dtype: 'float32', dims: [1, 3, height, width], data: input } });
    const t = out[resized.info.output];
    if (!t || t.dims.join() !== [1, 3, height, width].join()) {
      throw new InputError(`${path}: output has shape [${t?.dims.join(', ')}], expected [1, 3, ${height}, ${width}] (the network must keep the image size)`);
    }
    return { data: Float32Array.from(t.data as Float32Array, (v) => Math.min(1, Math.max(0, v / resized.info.scale))), width, height };
  } finally {
    await session.release();
  }
}
