/**
 * LoRA files in the layout kohya's sd-scripts and AUTOMATIC1111 use, so users recognise them: one
 * safetensors file, three tensors per adapted module,
 *   <module>.lora_down.weight   (r, in) or (r, in, kh, kw)
 *   <module>.lora_up.weight     (out, r) or (out, r, 1, 1)
 *   <module>.alpha              scalar; the update is W += weight · (alpha / r) · up · down
 * where <module> is `lora_unet_` or `lora_te_` followed by the diffusers/transformers module path with
 * '.' written as '_' (e.g. lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q).
 * A file without `.alpha` for a module means alpha = r (scale 1), as kohya reads it.
 */
import { basename } from 'node:path';
import { InputError } from '../core/errors.ts';
import { assertNotPickle } from './pickle-guard.ts';
import { readSafetensors, toFloat32, writeSafetensors, type SafetensorsTensor } from './safetensors.ts';

export const LORA_PREFIXES = { unet: 'lora_unet', textEncoder: 'lora_te' } as const;
export type LoraComponent = keyof typeof LORA_PREFIXES;

export interface LoraModule {
  /** e.g. lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k */
  key: string;
  component: LoraComponent;
  down: { shape: number[]; data: Float32Array };
  up: { shape: number[]; data: Float32Array };
  rank: number;
  alpha: number;
}

export interface LoraFile {
  path: string;
  /** File name without .safetensors: what `<lora:name:w>` calls it. */
  name: string;
  /** In the file's key order (sorted by the writer). */
  modules: LoraModule[];
  metadata: Record<string, string>;
}

/** The kohya module key of a diffusers/transformers module path ("down_blocks.0.attentions.0...to_q"). */
export function kohyaKey(component: LoraComponent, modulePath: string): string {
  return `${LORA_PREFIXES[component]}_${modulePath.replace(/\./g, '_')}`;
}

const SUFFIXES = ['.lora_down.weight', '.lora_up.weight', '.alpha'] as const;

/** Reads and checks a LoRA file: not a pickle, only LoRA keys, down/up pairs of matching rank, finite values. */
export function readLoraFile(path: string): LoraFile {
  assertNotPickle(path);
  const file = readSafetensors(path, path);
  const parts = new Map<string, Partial<Record<(typeof SUFFIXES)[number], SafetensorsTensor>>>();
  for (const [name, t] of file.tensors) {
    const suffix = SUFFIXES.find((s) => name.endsWith(s));
    const key = suffix ? name.slice(0, -suffix.length) : '';
    const component = componentOf(key);
    if (!suffix || !component) {
      throw new InputError(
        `${path}: tensor "${name}" is not a LoRA tensor (expected lora_unet_*/lora_te_* keys ending in .lora_down.weight, .lora_up.weight or .alpha; LyCORIS/LoHa files are not supported)`,
      );
    }
    const entry = parts.get(key) ?? {};
    entry[suffix] = t;
    parts.set(key, entry);
  }
  if (parts.size === 0) throw new InputError(`${path}: no LoRA tensors in this file`);
  const modules: LoraModule[] = [];
  for (const [key, p] of parts) {
    const down = p['.lora_down.weight'];
    const up = p['.lora_up.weight'];
    if (!down || !up) throw new InputError(`${path}: "${key}" has ${down ? 'lora_down but no lora_up' : 'lora_up but no lora_down'} weight`);
    const rank = down.shape[0] as number;
    const pairOk = (down.shape.length === 2 || down.shape.length === 4) && up.shape.length === down.shape.length && up.shape[1] === rank;
    if (!pairOk) {
      throw new InputError(
        `${path}: "${key}" lora_down [${down.shape.join(', ')}] and lora_up [${up.shape.join(', ')}] do not make a rank-r pair (down (r, in), up (out, r))`,
      );
    }
    const alphaTensor = p['.alpha'];
    const alpha = alphaTensor ? (toFloat32(alphaTensor)[0] as number) : rank;
    const values = { down: finite(path, `${key}.lora_down.weight`, down), up: finite(path, `${key}.lora_up.weight`, up) };
    if (!Number.isFinite(alpha)) throw new InputError(`${path}: "${key}.alpha" is ${alpha}; a LoRA's alpha must be a finite number`);
    modules.push({
      key,
      component: componentOf(key) as LoraComponent,
      down: { shape: [...down.shape], data: values.down },
      up: { shape: [...up.shape], data: values.up },
      rank,
      alpha,
    });
  }
  return { path, name: basename(path).replace(/\.safetensors$/i, ''), modules, metadata: file.metadata };
}

function componentOf(key: string): LoraComponent | null {
  for (const [component, prefix] of Object.entries(LORA_PREFIXES)) if (key.startsWith(`${prefix}_`)) return component as LoraComponent;
  return null;
}

function finite(path: string, name: string, t: SafetensorsTensor): Float32Array {
  const data = Float32Array.from(toFloat32(t));
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new InputError(`${path}: tensor "${name}" holds ${data[bad]} at index ${bad}; a LoRA with NaN or infinite values is refused`);
  return data;
}

/** Writes modules in kohya's layout (atomically), with kohya's `ss_network_*` metadata fields. */
export function writeLoraFile(path: string, modules: readonly LoraModule[], metadata: Record<string, string> = {}): void {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const m of modules) {
    tensors[`${m.key}.lora_down.weight`] = { dtype: 'F32', shape: m.down.shape, data: m.down.data };
    tensors[`${m.key}.lora_up.weight`] = { dtype: 'F32', shape: m.up.shape, data: m.up.data };
    tensors[`${m.key}.alpha`] = { dtype: 'F32', shape: [], data: Float32Array.of(m.alpha) };
  }
  const first = modules[0];
  writeSafetensors(path, tensors, {
    ss_network_module: 'networks.lora',
    ...(first ? { ss_network_dim: String(first.rank), ss_network_alpha: String(first.alpha) } : {}),
    ...metadata,
  });
}
