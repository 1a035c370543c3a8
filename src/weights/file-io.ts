/**
 * Positioned whole-buffer reads and writes on file descriptors, and atomic file replacement.
 * Weight files reach several GB: Node refuses single reads/writes above 2 GiB and readFileSync
 * above 2 GiB, so everything here goes in chunks.
 */
import { closeSync, existsSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { describeWriteError, tempPathFor } from '../core/output-file.ts';

const CHUNK = 1 << 30;

/**
 * Fills `target` with the bytes at `position` of the open file; a short read means the file is
 * shorter than its own header claims, reported as truncation of `what`.
 */
export function readExactly(fd: number, target: Uint8Array, position: number, what: string): void {
  let done = 0;
  while (done < target.length) {
    const want = Math.min(CHUNK, target.length - done);
    const got = readSync(fd, target, done, want, position + done);
    if (got === 0) {
      throw new InputError(`${what}: file is truncated (wanted ${target.length} bytes at offset ${position}, got ${done})`);
    }
    done += got;
  }
}

/** Writes all of `bytes` at the file's current position. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, Math.min(CHUNK, bytes.length - done));
  }
}

/**
 * Writes a file atomically: `content` (text as UTF-8, bytes, or a function that writes to the open
 * descriptor) fills a temp file in the same folder (so the rename cannot cross file systems), which is
 * synced and then renamed over `path`. On any error the temp file is removed and `path` is left as it was.
 * gesso's one writer for files it replaces whole (manifests, reports, run records, weights).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array | ((fd: number) => void)): void {
  const temp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(temp, 'wx');
  } catch (err) {
    throw describeWriteError(path, err as NodeJS.ErrnoException);
  }
  let closed = false;
  let renamed = false;
  try {
    if (typeof content === 'function') content(fd);
    else writeAll(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(temp, path);
    renamed = true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A full disk, a quota, a read-only folder: say so plainly; the file at `path` is left as it was.
    if (typeof code === 'string') {
      const e = describeWriteError(path, err as NodeJS.ErrnoException);
      throw new InputError(`${e.message}${existsSync(path) ? ` (the previous ${path} is kept unchanged)` : ''}`);
    }
    throw err;
  } finally {
    // Close only our own descriptor once: a second close could hit a number reused by another open.
    if (!closed) {
      try {
        closeSync(fd);
      } catch {
        // keep the error that got us here
      }
    }
    if (!renamed) {
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
    }
  }
}
