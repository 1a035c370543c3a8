/**
 * The one way gesso opens a file a user (or a model folder, recipe or checkpoint) names. A path can be
 * /dev/zero (endless), a FIFO (blocks forever on open), a folder, or a file of many GB: every read here
 * opens without blocking, checks on the open descriptor that it is a regular file, and checks its size
 * against a cap for what it is meant to be before reading a byte.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from './errors.ts';

/** Caps by kind of file (bytes). Model weights have none: they are read in place, never whole. */
export const FILE_LIMITS = {
  /** An image to decode or inspect (PNG/JPEG/WebP …). */
  image: 256 * 1024 * 1024,
  /** JSON configs, tokenizer vocabularies, manifests. */
  config: 64 * 1024 * 1024,
  /** A prompt file (4 bytes per character of the longest prompt is far below this). */
  prompt: 1024 * 1024,
  /** Training logs (log.jsonl). */
  log: 512 * 1024 * 1024,
} as const;

export interface ReadLimits {
  /** Names the file in messages, e.g. "init image", "unet/config.json". */
  what: string;
  /** Largest size accepted, in bytes; omit for none (the file is then only checked to be regular). */
  maxBytes?: number;
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB` : `${bytes} bytes`;
}

function kindOf(stat: ReturnType<typeof fstatSync>): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

function openError(path: string, what: string, err: NodeJS.ErrnoException): InputError {
  if (err.code === 'ENOENT') return new InputError(`${what} not found: ${JSON.stringify(path)}`);
  if (err.code === 'EISDIR') return new InputError(`${what} ${JSON.stringify(path)} is a folder; expected a file`);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new InputError(`${what} ${JSON.stringify(path)}: permission denied`);
  return new InputError(`cannot open ${what} ${JSON.stringify(path)}: ${err.message}`);
}

/**
 * Opens `path` for reading without blocking (a FIFO does not wait for a writer) and checks that it is a
 * regular file within `maxBytes`. Returns the descriptor and size; the caller closes the descriptor.
 */
export function openRegularFile(path: string, limits: ReadLimits): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw openError(path, limits.what, err as NodeJS.ErrnoException);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new InputError(`${limits.what} ${JSON.stringify(path)} is ${kindOf(stat)}; expected a regular file`);
    if (limits.maxBytes !== undefined && stat.size > limits.maxBytes) {
      throw new InputError(`${limits.what} ${JSON.stringify(path)} is ${mib(stat.size)}; gesso reads at most ${mib(limits.maxBytes)} for a ${limits.what}`);
    }
    return { fd, size: stat.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Checks `path` as openRegularFile does, without reading it; returns its size. */
export function checkRegularFile(path: string, limits: ReadLimits): number {
  const { fd, size } = openRegularFile(path, limits);
  closeSync(fd);
  return size;
}

/** The whole of a regular file within `limits.maxBytes`. */
export function readRegularFile(path: string, limits: ReadLimits & { maxBytes: number }): Buffer {
  const { fd, size } = openRegularFile(path, limits);
  try {
    // One byte more than fstat said: a file that grows while it is read is noticed, never read without end.
    const buffer = Buffer.allocUnsafe(size + 1);
    let done = 0;
    for (;;) {
      const got = readSync(fd, buffer, done, buffer.length - done, done);
      if (got === 0) break;
      done += got;
      if (done === buffer.length) throw new InputError(`${limits.what} ${JSON.stringify(path)} changed while it was read; try again`);
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** A regular text file (UTF-8) within `maxBytes` (default: the config cap). */
export function readTextFile(path: string, what: string, maxBytes: number = FILE_LIMITS.config): string {
  return readRegularFile(path, { what, maxBytes }).toString('utf8');
}
