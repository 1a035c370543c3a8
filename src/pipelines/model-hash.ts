/**
 * A model folder's identity. A1111 writes `Model hash: <AutoV2>` (first 10 hex digits of the SHA-256 of
 * the checkpoint file). An ONNX folder has no single checkpoint: its weights are the UNet's, which may be
 * split into `model.onnx` plus external weight files. So gesso hashes the UNet:
 * - UNet in one file: AutoV2 of `unet/model.onnx`, exactly A1111's rule for that file;
 * - with external data: SHA-256 of the text "<sha256 of model.onnx>\n<location>:<sha256 of that file>\n…"
 *   (external files sorted by location), first 10 hex digits.
 * Text encoder and VAE are left out on purpose: fine-tunes change the UNet, and hashing a 3 GB folder on
 * every run would cost seconds. Hashes are cached per file (size + mtime) for the process.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { autoV2, cachedSha256File } from '../weights/hash.ts';
import { validateOnnxFile } from '../weights/onnx-external-data.ts';

export interface ModelHash {
  /** 10 hex digits, for A1111's "Model hash". */
  short: string;
  /** The full SHA-256 the short hash is cut from, for the recipe. */
  sha256: string;
  /** Files hashed, relative to the UNet folder. */
  files: string[];
}

export async function modelFolderHash(unetPath: string): Promise<ModelHash> {
  const external = validateOnnxFile(unetPath).externalFiles; // sorted
  const main = await cachedSha256File(unetPath);
  if (external.length === 0) return { short: autoV2(main), sha256: main, files: ['model.onnx'] };
  const lines = [main];
  for (const location of external) lines.push(`${location}:${await cachedSha256File(join(dirname(unetPath), location))}`);
  const sha256 = createHash('sha256')
    .update(`${lines.join('\n')}\n`)
    .digest('hex');
  return { short: autoV2(sha256), sha256, files: ['model.onnx', ...external] };
}
