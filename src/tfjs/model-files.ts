/**
 * Reads a TensorFlow.js layers model from disk: either the standard layout (`model.json` beside its
 * `.bin` weight shards) or the bundled layout nsfwjs ships (`model.min.js` and `group1-shardXofN.min.js`,
 * UMD modules that export the model JSON object and each shard as a base64 string).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { runInNewContext } from 'node:vm';
import { InputError } from '../core/errors.ts';
import { decodeWeightGroup, type TfjsWeight, type TfjsWeightGroup } from './weights.ts';

/** Keras layer config as TF.js stores it (only the fields gesso reads are typed). */
export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** One entry per call of the layer; each lists [layerName, nodeIndex, tensorIndex, kwargs]. */
  inbound_nodes: [string, number, number, unknown][][];
}

export interface TfjsLayersModel {
  /** Where it was read from, for error messages. */
  source: string;
  layers: KerasLayer[];
  inputLayers: string[];
  outputLayers: string[];
  weights: Map<string, TfjsWeight>;
  /** The `modelTopology` object as read (for tools that load the same model elsewhere). */
  topology: unknown;
}

/** The nsfwjs models shipped inside its npm package (MIT; Infinite Red). */
export type NsfwjsModelName = 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3';

/** Folder of one of nsfwjs's bundled models in node_modules. */
export function nsfwjsModelDir(name: NsfwjsModelName): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('nsfwjs'); // .../nsfwjs/dist/cjs/index.js
  } catch {
    throw new InputError('the npm package nsfwjs is not installed; it holds the default perceptual encoder (run npm ci)');
  }
  return join(dirname(dirname(entry)), 'models', name);
}

/** Reads a model folder (or a model.json / model.min.js path) in either layout. */
export function readTfjsModel(path: string): TfjsLayersModel {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or folder (expected a TensorFlow.js model.json or its folder)`);
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const jsonPath = statSync(path).isDirectory() ? join(dir, 'model.json') : path;
  const bundled = statSync(path).isDirectory() ? join(dir, 'model.min.js') : path.endsWith('.js') ? path : '';
  if (bundled && existsSync(bundled)) return fromBundle(dir, bundled);
  if (!existsSync(jsonPath)) throw new InputError(`${dir}: holds neither model.json nor model.min.js`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new InputError(`${jsonPath}: not valid JSON (${(e as Error).message})`);
  }
  return fromJson(json, jsonPath, (shard) => readFileSync(confined(dir, shard, jsonPath)));
}

function fromBundle(dir: string, modelJs: string): TfjsLayersModel {
  // A JSON round trip turns the sandbox's objects into plain data of this realm (and drops anything else).
  const json: unknown = JSON.parse(JSON.stringify(evalUmd(readFileSync(modelJs, 'utf8'), modelJs)));
  return fromJson(json, modelJs, (shard) => {
    const file = confined(dir, `${shard}.min.js`, modelJs);
    const b64 = evalUmd(readFileSync(file, 'utf8'), file);
    if (typeof b64 !== 'string') throw new InputError(`${file}: expected a module exporting a base64 string`);
    return Buffer.from(b64, 'base64');
  });
}

/** Runs a browserify UMD bundle in an empty context (no require, no process) and returns its export. */
function evalUmd(code: string, file: string): unknown {
  const module = { exports: {} as unknown };
  try {
    runInNewContext(code, { module, exports: module.exports }, { filename: file, timeout: 10_000 });
  } catch (e) {
    throw new InputError(`${file}: could not read the bundled model (${(e as Error).message})`);
  }
  return module.exports;
}

/** A shard path from a manifest, kept inside the model folder (no absolute paths, no `..`). */
function confined(dir: string, rel: string, source: string): string {
  const norm = normalize(rel);
  if (isAbsolute(rel) || norm.startsWith(`..${sep}`) || norm === '..') throw new InputError(`${source}: weight shard path "${rel}" leaves the model folder`);
  const full = join(dir, norm);
  if (!existsSync(full)) throw new InputError(`${source}: weight shard "${rel}" is missing`);
  return full;
}

function fromJson(json: unknown, source: string, readShard: (path: string) => Uint8Array): TfjsLayersModel {
  const j = json as {
    modelTopology?: { model_config?: { class_name?: string; config?: { layers?: KerasLayer[]; input_layers?: unknown[][]; output_layers?: unknown[][] } } };
    weightsManifest?: TfjsWeightGroup[];
  };
  const config = j.modelTopology?.model_config;
  if (!config?.config?.layers || !Array.isArray(j.weightsManifest)) {
    throw new InputError(
      `${source}: not a TensorFlow.js layers model (needs modelTopology.model_config.config.layers and weightsManifest; graph models are not supported)`,
    );
  }
  if (config.class_name !== 'Model' && config.class_name !== 'Functional') {
    throw new InputError(`${source}: model class "${config.class_name}" is not supported (expected a functional Model)`);
  }
  const weights = new Map<string, TfjsWeight>();
  for (const group of j.weightsManifest) {
    const parts = group.paths.map(readShard);
    const bytes = Buffer.concat(parts);
    for (const [k, v] of decodeWeightGroup(group, bytes, source)) weights.set(k, v);
  }
  const names = (list: unknown[][] | undefined): string[] => (list ?? []).map((e) => String(e[0]));
  return {
    source,
    topology: j.modelTopology,
    layers: config.config.layers,
    inputLayers: names(config.config.input_layers),
    outputLayers: names(config.config.output_layers),
    weights,
  };
}
