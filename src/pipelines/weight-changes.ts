/**
 * Everything gesso changes in a model's weights at load, in memory: LoRAs merged into the UNet and
 * text encoder (lora-merge.ts) and textual-inversion words appended to the text encoder's token table
 * (embedding-merge.ts). Each changed component is encoded once, as bytes ORT loads; the folder's files
 * are never written. Nothing to change: the files load as they are (null).
 */
import { encodeWithWeights, readOnnxWeights, type OnnxWeights } from '../models/onnx-weights.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { EmbeddingFile } from '../weights/embedding-file.ts';
import type { LoraComponent } from '../weights/lora-file.ts';
import { embedWords } from './embedding-merge.ts';
import { loraChanges, type LoraTargets, type MergedModels, type WeightedLora } from './lora-merge.ts';

export function changeWeights(
  targets: LoraTargets,
  tokenizer: Tokenizer,
  loras: readonly WeightedLora[],
  embeddings: readonly EmbeddingFile[],
): { merged: MergedModels; tokenizer: Tokenizer } {
  const weights: Partial<Record<LoraComponent, OnnxWeights>> = {};
  const open = (component: LoraComponent): OnnxWeights => (weights[component] ??= readOnnxWeights(targets[component]));
  const changed = loraChanges(open, loras);
  const reshaped = new Map<string, number[]>();
  let withWords = tokenizer;
  if (embeddings.length > 0) {
    const words = embedWords(open('textEncoder'), tokenizer, embeddings);
    changed.textEncoder.set(words.initializer, words.values);
    reshaped.set(words.initializer, words.dims);
    withWords = words.tokenizer;
  }
  const encode = (component: LoraComponent): Uint8Array | null => {
    const w = weights[component];
    return w && changed[component].size > 0 ? encodeWithWeights(w, changed[component], reshaped) : null;
  };
  return { merged: { unet: encode('unet'), textEncoder: encode('textEncoder') }, tokenizer: withWords };
}
