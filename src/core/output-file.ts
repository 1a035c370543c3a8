/**
 * The one way gesso puts a new file where a user will find it, without ever replacing a file it did not
 * create in this run:
 *   1. stage: the bytes go to a hidden temp file in the target folder, synced (a full disk fails here,
 *      before any visible name is touched);
 *   2. publish: the temp file is hard-linked to its name, which fails if the name exists (atomic: two
 *      gesso processes asking for the same name get different ones), then the temp name is removed.
 *      With `overwrite` it is renamed over the name instead (still atomic: readers see old or new).
 * File systems without hard links fall back to an exclusive copy (O_EXCL), also never replacing.
 */
import { randomBytes } from 'node:crypto';
import { constants, readdirSync, rmSync } from 'node:fs';
import { copyFile, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from './errors.ts';

export interface StagedFile {
  /** The hidden temp file holding the bytes. */
  temp: string;
  /** The name it was staged for (messages name it). */
  target: string;
}

/** `.NAME.PID.HEX.tmp` beside `path`: the temp name every atomic writer in gesso uses (removeStaleTemps finds them). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes temp files and folders (tempPathFor names) in `dir` left by a gesso process that no longer
 * runs (killed mid-write). Temps of live processes are left alone. Returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes `bytes` to a synced temp file beside `path` (same folder, so publishing never crosses file systems). */
export async function stageFile(path: string, bytes: Uint8Array, what = 'file'): Promise<StagedFile> {
  const temp = tempPathFor(path);
  let created = false;
  try {
    const file = await open(temp, 'wx');
    created = true;
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    return { temp, target: path };
  } catch (err) {
    if (created) await unlink(temp).catch(() => undefined);
    throw describeWriteError(path, err as NodeJS.ErrnoException, what);
  }
}

/** Removes a staged file that will not be published. */
export async function discardStaged(staged: StagedFile): Promise<void> {
  await unlink(staged.temp).catch(() => undefined);
}

/**
 * Gives the staged file the first of `names` that does not exist yet (or `names[0]` replaced when
 * `overwrite`). Returns the name used; throws InputError naming the file when every name is taken.
 */
export async function publishStaged(staged: StagedFile, names: Iterable<string>, options: { overwrite?: boolean; what?: string } = {}): Promise<string> {
  try {
    let last = '';
    for (const name of names) {
      last = name;
      if (options.overwrite) {
        await rename(staged.temp, name);
        return name;
      }
      if (await createExclusive(staged.temp, name)) {
        await unlink(staged.temp).catch(() => undefined);
        return name;
      }
    }
    throw new InputError(
      `${JSON.stringify(last)} already exists; gesso does not replace files it did not make (pass --overwrite to replace it, or choose another --out)`,
    );
  } catch (err) {
    await discardStaged(staged);
    if (err instanceof InputError) throw err;
    throw describeWriteError(staged.target, err as NodeJS.ErrnoException, options.what);
  }
}

/** Stage + publish in one: a new file at `path` (refused if it exists unless `overwrite`). */
export async function writeNewFile(path: string, bytes: Uint8Array, options: { overwrite?: boolean; what?: string } = {}): Promise<string> {
  return publishStaged(await stageFile(path, bytes, options.what), [path], options);
}

/** Links `temp` to `name`; false when `name` exists. */
async function createExclusive(temp: string, name: string): Promise<boolean> {
  try {
    await link(temp, name);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
  }
  // No hard links here (FAT, some network file systems): an exclusive copy never replaces either.
  try {
    await copyFile(temp, name, constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function describeWriteError(path: string, err: NodeJS.ErrnoException, what = 'file'): InputError {
  const where = `cannot write ${what} ${JSON.stringify(path)}`;
  switch (err.code) {
    case 'ENOENT':
      return new InputError(`${where}: folder ${JSON.stringify(dirname(path))} does not exist`);
    case 'ENOTDIR':
      return new InputError(`${where}: ${JSON.stringify(dirname(path))} is not a folder`);
    case 'EISDIR':
      return new InputError(`${where}: it is a folder`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new InputError(`${where}: permission denied (${err.code})`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new InputError(`${where}: no space left on the device; nothing was written`);
    default:
      return new InputError(`${where}: ${err.message}`);
  }
}
