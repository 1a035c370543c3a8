/** Tiny random-weight SD folders (src/models/fixtures/tiny-sd.ts) for the pipeline tests, written once per test file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { writeTinySdModel, type TinySdVariant } from '../../src/models/fixtures/tiny-sd.ts';
import { DiffusionModel, type LoadModelOptions } from '../../src/pipelines/model-folder.ts';

let root: string | null = null;
const written = new Map<TinySdVariant, string>();
const loaded: DiffusionModel[] = [];

after(async () => {
  await Promise.all(loaded.map((m) => m.release()));
  if (root) rmSync(root, { recursive: true, force: true });
});

export function scratchDir(): string {
  root ??= mkdtempSync(join(tmpdir(), 'gesso-pipelines-'));
  return root;
}

/** The folder of a tiny model (seed 1), written on first use. */
export function tinyFolder(variant: TinySdVariant): string {
  let dir = written.get(variant);
  if (dir === undefined) {
    dir = join(scratchDir(), variant);
    writeTinySdModel(dir, { variant, seed: 1 });
    written.set(variant, dir);
  }
  return dir;
}

const models = new Map<string, Promise<DiffusionModel>>();

/** A loaded tiny model, in-process by default (tests stay fast; the worker path has its own tests). */
export function tinyModel(variant: TinySdVariant, options: LoadModelOptions = { runner: 'in-process' }): Promise<DiffusionModel> {
  const key = `${variant}:${JSON.stringify(options)}`;
  let model = models.get(key);
  if (model === undefined) {
    model = DiffusionModel.load(tinyFolder(variant), options).then((m) => {
      loaded.push(m);
      return m;
    });
    models.set(key, model);
  }
  return model;
}
