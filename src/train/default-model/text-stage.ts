/** The default model's text side: gesso's word tokenizer built from the captions, and the text encoder config. */
import { buildWordVocab, WordTokenizer } from '../../text/word-tokenizer.ts';
import { clipTextConfig, type ClipTextConfig } from '../../models/clip-text-encoder.ts';
import type { ImageDataset } from '../../data/dataset.ts';
import type { DefaultModelPlan } from './config.ts';

export function buildCaptionTokenizer(plan: DefaultModelPlan, train: ImageDataset): WordTokenizer {
  const vocab = buildWordVocab(
    train.items.map((i) => i.caption),
    { minCount: plan.text.minWordCount, maxSize: plan.text.maxVocab },
  );
  return new WordTokenizer(vocab, { maxLength: plan.text.maxLength });
}

export function textEncoderConfig(plan: DefaultModelPlan, tokenizer: WordTokenizer): ClipTextConfig {
  const t = plan.text;
  return clipTextConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: t.hiddenSize,
    intermediate_size: 4 * t.hiddenSize,
    num_hidden_layers: t.layers,
    num_attention_heads: t.heads,
    max_position_embeddings: tokenizer.maxLength,
    hidden_act: 'gelu',
    projection_dim: t.hiddenSize,
    bos_token_id: tokenizer.bosId,
    eos_token_id: tokenizer.eosId,
    pad_token_id: tokenizer.padId,
  });
}
