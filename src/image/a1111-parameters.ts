// AUTOMATIC1111's `parameters` text (what its PNG Info tab, Civitai and most image hosts read):
//
//   <prompt, one or more lines>
//   Negative prompt: <negative prompt, one or more lines>      (only when there is one)
//   Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 123, Size: 512x512, ...
//
// The last line is `Key: value` pairs joined by ", ". A value holding a comma, colon or newline is written
// as a JSON string ("…"), as A1111 does. Parsing follows A1111's rules: prompt lines are trimmed, and a last
// line with fewer than 3 `Key: value` pairs is taken to be part of the prompt.
import { InputError } from '../core/errors.ts';

export interface A1111Parameters {
  prompt: string;
  /** '' or undefined when there is none (then no `Negative prompt:` line is written). */
  negativePrompt?: string;
  steps?: number;
  sampler?: string;
  scheduleType?: string;
  cfgScale?: number;
  seed?: number;
  width?: number;
  height?: number;
  /** A1111's short hash: the first 10 hex digits of the checkpoint file's SHA-256. */
  modelHash?: string;
  model?: string;
  denoisingStrength?: number;
  /** Every other `Key: value` pair, in order, values unquoted (A1111/Forge write VAE, Clip skip, Version, Lora hashes…). */
  extra?: Record<string, string>;
}

type NumberKey = 'steps' | 'cfgScale' | 'seed' | 'denoisingStrength';
type StringKey = 'sampler' | 'scheduleType' | 'modelHash' | 'model';

// A1111's own key names, in the order it writes them. Size sits between Seed and Model hash.
const NUMBER_KEYS: Record<string, NumberKey> = { Steps: 'steps', 'CFG scale': 'cfgScale', Seed: 'seed', 'Denoising strength': 'denoisingStrength' };
const STRING_KEYS: Record<string, StringKey> = { Sampler: 'sampler', 'Schedule type': 'scheduleType', 'Model hash': 'modelHash', Model: 'model' };
const INTEGER_KEYS = new Set<NumberKey>(['steps', 'seed']);

// One `Key: value` pair of the settings line; the pattern A1111 uses (keys of word characters, spaces,
// '-' and '/'; a value is a JSON string or anything up to the next comma).
const PAIR = /\s*([\p{L}\p{N}_][\p{L}\p{N}_ \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/gu;
const KEY = /^[\p{L}\p{N}_][\p{L}\p{N}_ \-/]+$/u;

function quote(value: string): string {
  // A leading '"' is quoted too, so that a value that merely looks quoted survives the round trip.
  return /[,:\n]|^"/.test(value) ? JSON.stringify(value) : value;
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

/** The settings line's `[key, value]` pairs in A1111's order, values unquoted; undefined values are left out. */
export function a1111SettingPairs(p: A1111Parameters): [string, string][] {
  const pairs: [string, string | number | undefined][] = [
    ['Steps', p.steps],
    ['Sampler', p.sampler],
    ['Schedule type', p.scheduleType],
    ['CFG scale', p.cfgScale],
    ['Seed', p.seed],
    ['Size', p.width !== undefined && p.height !== undefined ? `${p.width}x${p.height}` : undefined],
    ['Model hash', p.modelHash],
    ['Model', p.model],
    ['Denoising strength', p.denoisingStrength],
    ...Object.entries(p.extra ?? {}),
  ];
  const out: [string, string][] = [];
  for (const [key, value] of pairs) {
    if (value === undefined) continue;
    if (!KEY.test(key)) {
      throw new InputError(
        `A1111 parameter key ${JSON.stringify(key)} is invalid: expected letters, digits, '_', ' ', '-' or '/', starting with a letter or digit`,
      );
    }
    if (typeof value === 'number' && !Number.isFinite(value)) throw new InputError(`A1111 parameter ${key} is ${value}, expected a finite number`);
    out.push([key, String(value)]);
  }
  return out;
}

/** The `parameters` text for these settings, in A1111's layout. */
export function formatA1111Parameters(p: A1111Parameters): string {
  const settings = a1111SettingPairs(p)
    .map(([k, v]) => `${k}: ${quote(v)}`)
    .join(', ');
  const negative = p.negativePrompt ? `\nNegative prompt: ${p.negativePrompt}` : '';
  return `${p.prompt}${negative}\n${settings}`.trim();
}

/** Parses A1111/Forge `parameters` text. Unknown keys land in `extra`; values that fail to parse as numbers too. */
export function parseA1111Parameters(text: string): A1111Parameters {
  const lines = text.trim().split('\n');
  let last = lines.pop() ?? '';
  if ([...last.matchAll(PAIR)].length < 3) {
    lines.push(last);
    last = '';
  }
  const promptLines: string[] = [];
  const negativeLines: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice('Negative prompt:'.length).trim();
    }
    (inNegative ? negativeLines : promptLines).push(line);
  }
  const result: A1111Parameters = { prompt: promptLines.join('\n') };
  if (inNegative) result.negativePrompt = negativeLines.join('\n');
  const extra: Record<string, string> = {};
  for (const [, key, rawValue] of last.matchAll(PAIR)) {
    const k = key!;
    const value = unquote(rawValue!);
    const size = k === 'Size' ? /^(\d+)x(\d+)$/.exec(value) : null;
    const numberKey = NUMBER_KEYS[k];
    const stringKey = STRING_KEYS[k];
    if (size) {
      result.width = Number(size[1]);
      result.height = Number(size[2]);
    } else if (numberKey && isNumber(value, INTEGER_KEYS.has(numberKey))) {
      result[numberKey] = Number(value);
    } else if (stringKey) {
      result[stringKey] = value;
    } else {
      extra[k] = value;
    }
  }
  if (Object.keys(extra).length > 0) result.extra = extra;
  return result;
}

function isNumber(value: string, integer: boolean): boolean {
  if (!/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value.trim())) return false;
  const n = Number(value);
  return integer ? Number.isSafeInteger(n) : Number.isFinite(n);
}
