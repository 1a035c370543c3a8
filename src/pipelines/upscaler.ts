/**
 * gesso's 4× upscaler on its own (without the rest of a diffusion model folder), for `gesso upscale`:
 * `upscaler/model.onnx` + `upscaler/config.json` as `trainUpscaler` exports them. Images go through
 * whole (no tiles), so their size is capped: a 512 px side becomes 2048 px, and the net's widest
 * activation at that size is about 0.5 GB.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonObjectFile } from '../core/json.ts';
import { InputError } from '../core/errors.ts';
import { UPSCALER_CLASS, UPSCALER_INPUT, UPSCALER_OUTPUT, type UpscalerConfigJson } from '../models/upscaler.ts';
import { Session } from '../runtime/session.ts';

export const MAX_UPSCALE_INPUT_SIDE = 512;

export interface LoadedUpscaler {
  /** The folder holding model.onnx and config.json. */
  dir: string;
  config: UpscalerConfigJson;
  /** (3, h, w) planes in [-1, 1] -> (3, 4h, 4w) planes in [-1, 1]. */
  upscale(planes: Float32Array, width: number, height: number): Promise<{ planes: Float32Array; width: number; height: number }>;
  release(): Promise<void>;
}

/** `dir` is a model folder with `upscaler/` in it, or the `upscaler/` folder itself. */
export function findUpscalerDir(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`model folder ${JSON.stringify(dir)} does not exist`);
  for (const candidate of [join(dir, 'upscaler'), dir]) {
    if (existsSync(join(candidate, 'model.onnx')) && existsSync(join(candidate, 'config.json'))) return candidate;
  }
  throw new InputError(
    `${JSON.stringify(dir)} has no upscaler: expected upscaler/model.onnx and upscaler/config.json in it (gesso train default trains one as its upscaler stage)`,
  );
}

export function readUpscalerConfig(dir: string): UpscalerConfigJson {
  const path = join(dir, 'config.json');
  const v = readJsonObjectFile(path, 'upscaler config') as Partial<UpscalerConfigJson>;
  if (!v || v._class_name !== UPSCALER_CLASS) throw new InputError(`${path}: _class_name ${JSON.stringify(v?._class_name)} is not "${UPSCALER_CLASS}"`);
  if (v.scale !== 4) throw new InputError(`${path}: scale ${JSON.stringify(v.scale)} is not 4`);
  return v as UpscalerConfigJson;
}

export async function loadUpscaler(modelDir: string, options: { threads?: number } = {}): Promise<LoadedUpscaler> {
  const dir = findUpscalerDir(modelDir);
  const config = readUpscalerConfig(dir);
  const session = await Session.create(join(dir, 'model.onnx'), {
    name: join(dir, 'model.onnx'),
    ...(options.threads ? { intraOpThreads: options.threads } : {}),
  });
  return {
    dir,
    config,
    async upscale(planes, width, height) {
      if (width > MAX_UPSCALE_INPUT_SIDE || height > MAX_UPSCALE_INPUT_SIDE) {
        throw new InputError(
          `image is ${width}x${height}; the upscaler takes at most ${MAX_UPSCALE_INPUT_SIDE} px a side (the result is ${config.scale}× that): downscale it first`,
        );
      }
      if (planes.length !== 3 * width * height)
        throw new InputError(`image of ${width}x${height} has ${planes.length} values; expected (3, ${height}, ${width})`);
      const out = await session.run({ [UPSCALER_INPUT]: { dtype: 'float32', dims: [1, 3, height, width], data: planes } }, [UPSCALER_OUTPUT]);
      const result = out[UPSCALER_OUTPUT];
      const [, c, h, w] = result?.dims ?? [];
      if (!result || c !== 3 || h !== height * config.scale || w !== width * config.scale) {
        throw new InputError(`${dir}/model.onnx gave output [${result?.dims.join(', ')}]; expected [1, 3, ${height * config.scale}, ${width * config.scale}]`);
      }
      return { planes: result.data as Float32Array, width: w, height: h };
    },
    release: () => session.release(),
  };
}
