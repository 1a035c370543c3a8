import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/errors.ts';

/**
 * A data set that an npm package ships (emoji drawings, their names), fetched when a dataset is built
 * rather than installed as a dependency: the packages are tens of MB of pictures that gesso itself never
 * loads, and a built dataset needs none of them. The tarball comes from the registry through npm's own
 * client (`npm pack`: the user's registry, proxy and cache settings apply), is checked against the
 * pinned integrity hash, and is unpacked into the cache folder, where later builds find it offline.
 */

export interface NpmPackageSpec {
  name: string;
  version: string;
  /** The registry's `dist.integrity` of that version (sha512, base64). */
  integrity: string;
}

/** The file name `npm pack` gives a tarball: "@twemoji/svg" 15.0.0 -> "twemoji-svg-15.0.0.tgz". */
export function tarballName(spec: NpmPackageSpec): string {
  return `${spec.name.replace(/^@/, '').replace(/\//g, '-')}-${spec.version}.tgz`;
}

/**
 * The unpacked package folder (`<cacheDir>/<tarball stem>/package`): already there, unpacked from a
 * tarball found in cacheDir (put there by hand on an offline machine), or downloaded with `npm pack`.
 */
export function ensureNpmPackage(spec: NpmPackageSpec, cacheDir: string, log: (line: string) => void = () => {}): string {
  const tarball = tarballName(spec);
  const folder = join(cacheDir, tarball.slice(0, -'.tgz'.length));
  const packageDir = join(folder, 'package');
  if (existsSync(join(packageDir, 'package.json'))) return packageDir;
  mkdirSync(cacheDir, { recursive: true });
  const tarPath = join(cacheDir, tarball);
  if (!existsSync(tarPath)) {
    log(`npm: downloading ${spec.name}@${spec.version} from the npm registry`);
    try {
      execFileSync('npm', ['pack', `${spec.name}@${spec.version}`, '--pack-destination', cacheDir, '--silent'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 600_000,
      });
    } catch (err) {
      const detail = err instanceof Error ? (err.message.split('\n').find((l) => /npm (error|ERR)/.test(l)) ?? err.message.split('\n')[0]) : String(err);
      throw new InputError(
        `cannot download ${spec.name}@${spec.version} from the npm registry (${detail}); on a machine without network, ` +
          `copy its tarball ${tarball} (from \`npm pack ${spec.name}@${spec.version}\` elsewhere) into ${cacheDir}`,
      );
    }
    if (!existsSync(tarPath)) throw new InputError(`npm pack ${spec.name}@${spec.version} did not write ${tarPath}`);
  }
  const actual = `sha512-${createHash('sha512').update(readFileSync(tarPath)).digest('base64')}`;
  if (actual !== spec.integrity) {
    throw new InputError(`${tarPath} is not ${spec.name}@${spec.version}: its sha512 is ${actual}, expected ${spec.integrity}; delete it and run again`);
  }
  // Unpack beside the final folder and rename, so an interrupted unpack never looks complete.
  const tmp = mkdtempSync(join(cacheDir, '.unpack-'));
  try {
    execFileSync('tar', ['-xzf', tarPath, '-C', tmp, '--no-same-owner', '--no-same-permissions'], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (!existsSync(join(tmp, 'package', 'package.json'))) throw new InputError(`${tarPath} holds no package/package.json`);
    rmSync(folder, { recursive: true, force: true });
    renameSync(tmp, folder);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log(`npm: ${spec.name}@${spec.version} unpacked into ${folder}`);
  return packageDir;
}
