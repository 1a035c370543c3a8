/**
 * File hashes for model identity. AUTOMATIC1111 writes `Model hash: <AutoV2>` into PNG `parameters`,
 * where AutoV2 is the first 10 hex digits of the SHA-256 of the whole file (Civitai lists the same
 * value as "AutoV2"). The older 8-digit "AutoV1" hash (SHA-256 of 64 KiB at offset 1 MiB) is not used.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkRegularFile } from '../core/safe-read.ts';

/** Hex SHA-256 of a file, streamed (constant memory for multi-GB checkpoints). */
export async function sha256File(path: string): Promise<string> {
  checkRegularFile(path, { what: 'file to hash' }); // never stream /dev/zero or wait on a FIFO
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** AutoV2 from a file's hex SHA-256: its first 10 hex digits. */
export function autoV2(sha256Hex: string): string {
  return sha256Hex.slice(0, 10);
}

// Hashing a 2–7 GB checkpoint takes seconds; remember results per (path, size, mtime) like A1111's cache.
const cache = new Map<string, { key: string; sha256: Promise<string> }>();

/** sha256File with an in-process cache that is invalidated when the file's size or mtime changes. */
export async function cachedSha256File(path: string): Promise<string> {
  const full = resolve(path);
  const info = await stat(full);
  const key = `${info.size}:${info.mtimeMs}`;
  const hit = cache.get(full);
  if (hit && hit.key === key) return hit.sha256;
  const sha256 = sha256File(full);
  cache.set(full, { key, sha256 });
  sha256.catch(() => {
    if (cache.get(full)?.sha256 === sha256) cache.delete(full);
  });
  return sha256;
}

/** A1111's "Model hash" (AutoV2) of a model file, for the PNG `parameters` text (cached). */
export async function a1111ModelHash(path: string): Promise<string> {
  return autoV2(await cachedSha256File(path));
}
