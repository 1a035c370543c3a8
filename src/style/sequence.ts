/**
 * Style transfer on a sequence of frames without flicker. Stylising each frame on its own lets small
 * changes of the input (motion, noise) pick different textures every frame. With `coherent` (default):
 * - the motion from each input frame to the next is estimated (./motion.ts, block matching);
 * - gatys: each frame's optimisation starts from the previous stylised frame warped along that motion
 *   (disoccluded pixels from the content) and a temporal loss keeps it there where the motion is
 *   reliable (Ruder, Dosovitskiy & Brox, "Artistic style transfer for videos", GCPR 2016);
 * - fast, adain (one pass each, nothing to initialise): the warped previous result is blended into the
 *   new one in proportion to the motion's confidence (`carry`), an exponential moving average along
 *   the motion that damps the frame-to-frame texture noise but keeps new content where motion fails.
 * Flicker is measured as the mean absolute change between consecutive output frames relative to that of
 * the input frames, and the same along the motion (warped), where only the style's own change remains.
 */
import { rename, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { writeRgbAnimation } from '../pipelines/explore-output.ts';
import { luminanceSsim } from './color.ts';
import { GATYS_DEFAULTS } from './gatys.ts';
import { frameMotion, warp, type FrameMotion } from './motion.ts';
import { resizePlanes, toPixels, type RgbPlanes } from './planes.ts';
import { defaultStyleSize, stylize, styleOutputSize, writeStyleImage, type StyleRequest } from './stylize.ts';

export interface SequenceRequest extends Omit<StyleRequest, 'content' | 'mask' | 'start' | 'temporal' | 'onIntermediate' | 'intermediateEvery'> {
  frames: readonly RgbPlanes[];
  /** Names for the recipe (default frame-0 ...). */
  names?: readonly string[];
  /** Temporal coherence (default true); false stylises every frame on its own. */
  coherent?: boolean;
  /** gatys: weight of the temporal loss (default 200). */
  temporalWeight?: number;
  /**
   * gatys: iterations for a frame that starts from the previous result (default: half of
   * `iterations`). That start is already stylised, so running the full count again keeps strengthening
   * the style frame after frame (drift); see docs/style-transfer.md.
   */
  followIterations?: number;
  /** gatys, Adam: learning rate for those frames (default half of the first frame's). */
  followLearningRate?: number;
  /** fast, adain: share of the warped previous result kept where the motion is reliable, 0..1 (default 0.7). */
  carry?: number;
  /** Largest motion searched per frame, in output pixels (default 12). */
  motionRadius?: number;
  onFrame?: (index: number, total: number, image: RgbPlanes) => void | Promise<void>;
}

export interface FlickerStats {
  /** Mean |frame(k) − frame(k−1)| of the inputs (at the output size) and of the outputs. */
  input: number;
  output: number;
  /** output / input: below 1, the style adds no change of its own; independent stylisation is far above. */
  ratio: number;
  /** The same after compensating the motion (confidence-weighted |frame(k) − warped frame(k−1)|). */
  warpedInput: number;
  warpedOutput: number;
  /** Per frame: SSIM of the output's luminance against its input frame's (how much layout the style left). */
  structure: number[];
  /** Drift: structure of the first frame minus the mean of the last half; near 0 when the style strength holds. */
  drift: number;
}

export interface SequenceResult {
  frames: RgbPlanes[];
  recipe: Record<string, unknown>;
  flicker: FlickerStats;
}

export const SEQUENCE_RECIPE_FORMAT = 'gesso.style-sequence';
export const SEQUENCE_DEFAULTS = { temporalWeight: 200, carry: 0.7, motionRadius: 12, followShare: 0.5 } as const;

/** Stylises every frame; returns the frames, a recipe and the flicker measurement. */
export async function stylizeSequence(req: SequenceRequest): Promise<SequenceResult> {
  const { frames: inputs } = req;
  if (inputs.length === 0) throw new InputError('a sequence needs at least one frame');
  const first = inputs[0] as RgbPlanes;
  inputs.forEach((f, k) => {
    if (f.width !== first.width || f.height !== first.height)
      throw new InputError(`frame ${k} is ${f.width}x${f.height}, frame 0 is ${first.width}x${first.height}; all frames of a sequence must have one size`);
  });
  const coherent = req.coherent ?? true;
  const carry = req.carry ?? SEQUENCE_DEFAULTS.carry;
  if (!(carry >= 0 && carry <= 1)) throw new InputError(`carry ${carry} must be in [0, 1]`);
  const temporalWeight = req.temporalWeight ?? SEQUENCE_DEFAULTS.temporalWeight;
  if (!(temporalWeight >= 0) || !Number.isFinite(temporalWeight)) throw new InputError(`temporal weight ${temporalWeight} must be a number >= 0`);
  const radius = req.motionRadius ?? SEQUENCE_DEFAULTS.motionRadius;
  const fullIterations = req.iterations ?? GATYS_DEFAULTS.iterations;
  const followIterations = req.followIterations ?? Math.max(1, Math.round(fullIterations * SEQUENCE_DEFAULTS.followShare));
  if (!Number.isInteger(followIterations) || followIterations < 1) throw new InputError(`follow iterations ${followIterations}; expected a whole number >= 1`);
  const followLearningRate = req.followLearningRate ?? (req.learningRate ?? GATYS_DEFAULTS.learningRate) * SEQUENCE_DEFAULTS.followShare;

  // Work at the output size from the start, so motion, warps and stylised frames share one grid.
  const size = styleOutputSize(req.method, first.width, first.height, req.size ?? defaultStyleSize(req.method));
  const frames = await Promise.all(inputs.map((f) => resizePlanes(f, size.width, size.height)));
  const motions: (FrameMotion | null)[] = frames.map((f, k) => (k === 0 ? null : frameMotion(frames[k - 1] as RgbPlanes, f, { radius })));

  const {
    frames: _f,
    names,
    coherent: _c,
    temporalWeight: _t,
    carry: _r,
    motionRadius: _m,
    followIterations: _i,
    followLearningRate: _l,
    onFrame,
    ...base
  } = req;
  const outputs: RgbPlanes[] = [];
  let recipe: Record<string, unknown> = {};
  for (const [k, frame] of frames.entries()) {
    const motion = motions[k];
    const prev = outputs[k - 1];
    const request: StyleRequest = { ...base, content: { planes: frame, name: names?.[k] ?? `frame-${k}` }, size: Math.max(size.width, size.height) };
    if (coherent && motion && prev && req.method === 'gatys') {
      const { image: warped, valid } = warp(prev, motion.flow);
      const n = frame.width * frame.height;
      // Disoccluded pixels (outside the previous frame) start from the content.
      const start = Float32Array.from(warped.data, (v, i) => (valid[i % n] ? v : (frame.data[i] as number)));
      request.start = { data: start, width: frame.width, height: frame.height };
      request.temporal = { target: warped, confidence: motion.confidence, weight: temporalWeight };
      // A fresh Adam moves every pixel by about its learning rate per step whatever the gradient, which
      // would re-stylise an already stylised start: fewer and smaller steps only refine it.
      request.iterations = followIterations;
      request.learningRate = followLearningRate;
    }
    const result = await stylize(request);
    let image = result.image;
    if (coherent && motion && prev && req.method !== 'gatys') image = carryAlong(image, prev, motion, carry);
    if (k === 0) recipe = result.recipe;
    outputs.push(image);
    await onFrame?.(k, frames.length, image);
  }
  const flicker = measureFlicker(frames, outputs, motions);
  return {
    frames: outputs,
    flicker,
    recipe: {
      ...recipe,
      format: SEQUENCE_RECIPE_FORMAT,
      frames: frames.length,
      content: { names: names ?? frames.map((_, k) => `frame-${k}`), size: [first.width, first.height] },
      sequence: {
        coherent,
        ...(req.method === 'gatys' ? { temporalWeight, ...(coherent ? { followIterations, followLearningRate } : {}) } : { carry }),
        motionRadius: radius,
      },
      flicker,
    },
  };
}

/** c·a·warp(prev) + (1 − c·a)·next per pixel, with c the motion's confidence and a = `carry`. */
function carryAlong(next: RgbPlanes, prev: RgbPlanes, motion: FrameMotion, carry: number): RgbPlanes {
  const { image: warped } = warp(prev, motion.flow);
  const n = next.width * next.height;
  const data = Float32Array.from(next.data, (v, i) => {
    const a = carry * (motion.confidence[i % n] as number);
    return a * (warped.data[i] as number) + (1 - a) * v;
  });
  return { data, width: next.width, height: next.height };
}

function meanAbsDiff(a: RgbPlanes, b: RgbPlanes, weight?: Float32Array): number {
  const n = a.width * a.height;
  let s = 0;
  let w = 0;
  for (let i = 0; i < a.data.length; i++) {
    const c = weight ? (weight[i % n] as number) : 1;
    s += c * Math.abs((a.data[i] as number) - (b.data[i] as number));
    w += c;
  }
  return w > 0 ? s / w : 0;
}

/** Flicker of `outputs` against `inputs` (same size), raw and along the given motions. */
export function measureFlicker(inputs: readonly RgbPlanes[], outputs: readonly RgbPlanes[], motions?: readonly (FrameMotion | null)[]): FlickerStats {
  let [input, output, warpedInput, warpedOutput] = [0, 0, 0, 0];
  const pairs = inputs.length - 1;
  for (let k = 1; k < inputs.length; k++) {
    input += meanAbsDiff(inputs[k] as RgbPlanes, inputs[k - 1] as RgbPlanes) / pairs;
    output += meanAbsDiff(outputs[k] as RgbPlanes, outputs[k - 1] as RgbPlanes) / pairs;
    const m = motions?.[k] ?? frameMotion(inputs[k - 1] as RgbPlanes, inputs[k] as RgbPlanes);
    warpedInput += meanAbsDiff(inputs[k] as RgbPlanes, warp(inputs[k - 1] as RgbPlanes, m.flow).image, m.confidence) / pairs;
    warpedOutput += meanAbsDiff(outputs[k] as RgbPlanes, warp(outputs[k - 1] as RgbPlanes, m.flow).image, m.confidence) / pairs;
  }
  const structure = outputs.map((o, k) => luminanceSsim(o, inputs[k] as RgbPlanes));
  const late = structure.slice(Math.floor(structure.length / 2));
  const drift = (structure[0] as number) - late.reduce((a, b) => a + b, 0) / late.length;
  return { input, output, ratio: input > 0 ? output / input : 0, warpedInput, warpedOutput, structure, drift };
}

/**
 * Writes the frames as a looping animated .webp / .gif (`fps`, default 12), or, for any other `out`, as a
 * new folder of PNGs (frame-0001.png ...), each with the sequence recipe and IPTC provenance; an animation
 * carries both inside the file (src/image/animation-metadata.ts). Atomic: the animation through a temp
 * file, the folder built under a temp name and renamed.
 */
export async function writeSequence(out: string, result: SequenceResult, options: { fps?: number } = {}): Promise<void> {
  const [first] = result.frames;
  if (!first) throw new InputError('no frames to write');
  const ext = extname(out).toLowerCase();
  if (ext === '.webp' || ext === '.gif') {
    const bytes = result.frames.map((f) => Uint8Array.from(toPixels(f), (v) => Math.round(v * 255)));
    const metadata = { source: 'edited', recipe: result.recipe } as const; // the recipe and IPTC provenance go inside the file
    await writeRgbAnimation(out, bytes, first.width, first.height, { metadata, ...(options.fps !== undefined ? { fps: options.fps } : {}) });
    return;
  }
  if (ext !== '') throw new InputError(`output ${JSON.stringify(out)}: expected a .webp or .gif animation, or a folder name (no extension)`);
  if (existsSync(out) && (await readdir(out)).length > 0) throw new InputError(`output folder ${JSON.stringify(out)} exists and is not empty`);
  const tmp = `${out}.tmp-${process.pid}`;
  await mkdir(tmp, { recursive: true });
  try {
    for (const [k, image] of result.frames.entries()) {
      await writeStyleImage(join(tmp, `frame-${String(k + 1).padStart(4, '0')}.png`), { image, recipe: { ...result.recipe, frame: k } });
    }
    if (existsSync(out)) await rm(out, { recursive: true });
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
