/**
 * A1111's extra-network syntax for LoRAs in a prompt: `<lora:name>` or `<lora:name:0.8>` (weight 1 when
 * left out). The tags choose LoRAs and are removed from the text the model reads, as A1111 does.
 */
import { InputError } from '../core/errors.ts';

export interface LoraTag {
  name: string;
  weight: number;
}

const TAG = /<lora:([^:>]+)(?::([^:>]*))?>/gi;

/** The prompt without its `<lora:…>` tags, and the tags in order. */
export function extractLoraTags(prompt: string): { prompt: string; tags: LoraTag[] } {
  const tags: LoraTag[] = [];
  const text = prompt.replace(TAG, (whole, name: string, weight: string | undefined) => {
    const w = weight === undefined || weight.trim() === '' ? 1 : Number(weight);
    if (!Number.isFinite(w)) throw new InputError(`prompt tag ${whole}: weight "${weight}" is not a number (expected e.g. <lora:${name.trim()}:0.8>)`);
    tags.push({ name: name.trim(), weight: w });
    return '';
  });
  return {
    prompt: text
      .replace(/\s{2,}/g, ' ')
      .replace(/\s+,/g, ',')
      .trim(),
    tags,
  };
}
