/**
 * CLIP's text transformer (Radford et al., 2021) as Stable Diffusion uses it: transformers'
 * `CLIPTextModel`, same config.json fields and state-dict names (`text_model.*`).
 *
 *   ids (B, S) ─ token_embedding + position_embedding ─► (B, S, D)
 *   num_hidden_layers × pre-LN block:  h += self_attn(layer_norm1(h), causal);  h += mlp(layer_norm2(h))
 *   ─ final_layer_norm ─► last_hidden_state (B, S, D)
 *   pooler_output (B, D) = last_hidden_state at each row's end-of-text token, found as argmax(ids):
 *   the end token has the largest id in CLIP's vocabulary (49407), and argmax takes the first of ties,
 *   so padding with the end token itself (SD 1.x) or with "!" (id 0, SD 2.x) both find the right place.
 *   Tokenizers whose end token is not the largest id (gesso's word tokenizer) pool at `eosTokenId` instead.
 * mlp = fc1 ─ quick_gelu (x·σ(1.702x), OpenAI CLIP: SD 1.x) or gelu (OpenCLIP: SD 2.x) ─ fc2.
 *
 * S is fixed at max_position_embeddings (77): the tokenizer pads every prompt chunk to it.
 */
import { InputError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { exportOnnx, type ExportedModel } from '../graph/export.ts';
import { Graph, type Tensor } from '../graph/graph.ts';
import { add, argmax, cast, concat, equal, gather, gelu, matmul, mul, reshape, sigmoid } from '../graph/ops/index.ts';
import { Embedding, LayerNorm, Linear, MultiHeadAttention, type WeightInit } from '../nn/index.ts';
import type { BuildWeights } from './build-options.ts';

/** transformers' CLIPTextConfig fields gesso uses (plus the token ids it writes back to config.json). */
export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  /** Written to config.json as transformers does; the model itself does not use them. */
  projection_dim: number;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
}

/** CLIP ViT-L/14's text tower: Stable Diffusion 1.x's text encoder. */
export const CLIP_TEXT_DEFAULTS: ClipTextConfig = {
  vocab_size: 49408,
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  max_position_embeddings: 77,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  projection_dim: 768,
  bos_token_id: 0,
  eos_token_id: 2,
  pad_token_id: 1,
};

export function clipTextConfig(raw: Partial<ClipTextConfig> & Record<string, unknown> = {}): ClipTextConfig {
  const c: ClipTextConfig = { ...CLIP_TEXT_DEFAULTS };
  for (const key of Object.keys(CLIP_TEXT_DEFAULTS) as (keyof ClipTextConfig)[]) {
    if (raw[key] !== undefined) (c as unknown as Record<string, unknown>)[key] = raw[key];
  }
  for (const key of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings'] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) throw new InputError(`CLIP text config: ${key} ${JSON.stringify(c[key])} must be a positive integer`);
  }
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new InputError(`CLIP text config: hidden_size ${c.hidden_size} must divide by num_attention_heads ${c.num_attention_heads}`);
  if (c.hidden_act !== 'quick_gelu' && c.hidden_act !== 'gelu')
    throw new InputError(`CLIP text config: hidden_act "${String(c.hidden_act)}" is not supported; expected "quick_gelu" or "gelu"`);
  if (!(c.layer_norm_eps > 0)) throw new InputError(`CLIP text config: layer_norm_eps ${c.layer_norm_eps} must be > 0`);
  return c;
}

class ClipEncoderLayer {
  readonly layerNorm1: LayerNorm;
  readonly selfAttn: MultiHeadAttention;
  readonly layerNorm2: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(
    g: Graph,
    name: string,
    readonly config: ClipTextConfig,
    rng: Rng,
    init: WeightInit,
  ) {
    const d = config.hidden_size;
    const eps = config.layer_norm_eps;
    const parts = g.scope(name, () => ({
      ln1: new LayerNorm(g, 'layer_norm1', { dim: d, eps }),
      attn: new MultiHeadAttention(
        g,
        'self_attn',
        { dim: d, heads: config.num_attention_heads, qkvBias: true, init, names: { q: 'q_proj', k: 'k_proj', v: 'v_proj', out: 'out_proj' } },
        rng,
      ),
      ln2: new LayerNorm(g, 'layer_norm2', { dim: d, eps }),
      mlp: g.scope('mlp', () => [
        new Linear(g, 'fc1', { in: d, out: config.intermediate_size, init }, rng),
        new Linear(g, 'fc2', { in: config.intermediate_size, out: d, init }, rng),
      ]),
    }));
    ({ ln1: this.layerNorm1, attn: this.selfAttn, ln2: this.layerNorm2 } = parts);
    [this.fc1, this.fc2] = parts.mlp as [Linear, Linear];
  }

  /** (B, S, D) -> (B, S, D) */
  forward(h: Tensor): Tensor {
    h = add(h, this.selfAttn.forward(this.layerNorm1.forward(h), { causal: true }));
    const u = this.fc1.forward(this.layerNorm2.forward(h)); // (B, S, intermediate)
    const act = this.config.hidden_act === 'quick_gelu' ? mul(u, sigmoid(mul(u, 1.702))) : gelu(u);
    return add(h, this.fc2.forward(act));
  }
}

export class ClipTextEncoder {
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: Embedding;
  readonly layers: ClipEncoderLayer[];
  readonly finalLayerNorm: LayerNorm;

  constructor(
    g: Graph,
    readonly config: ClipTextConfig,
    rng: Rng,
    init: WeightInit = 'pytorch',
  ) {
    const c = config;
    // transformers initialises both embeddings with normal(0, 0.02).
    const embedding = (name: string, num: number): Embedding => {
      const e = new Embedding(g, name, { num, dim: c.hidden_size, init: 'zeros' }, rng);
      const p = g.params.get(e.weight.name);
      if (p && init !== 'zeros') p.value = rng.normal(num * c.hidden_size, 0.02);
      return e;
    };
    const parts = g.scope('text_model', () => ({
      embeddings: g.scope('embeddings', () => [embedding('token_embedding', c.vocab_size), embedding('position_embedding', c.max_position_embeddings)]),
      layers: g.scope('encoder', () =>
        g.scope('layers', () => Array.from({ length: c.num_hidden_layers }, (_, i) => new ClipEncoderLayer(g, String(i), c, rng, init))),
      ),
      final: new LayerNorm(g, 'final_layer_norm', { dim: c.hidden_size, eps: c.layer_norm_eps }),
    }));
    [this.tokenEmbedding, this.positionEmbedding] = parts.embeddings as [Embedding, Embedding];
    this.layers = parts.layers;
    this.finalLayerNorm = parts.final;
  }

  /**
   * ids (B, S) int32/int64, S = max_position_embeddings -> { lastHiddenState (B, S, D), pooled (B, D) }.
   * `eosTokenId`: pool at the first occurrence of this id instead of at argmax(ids); needed when the end
   * token is not the largest id (gesso's word tokenizer: 2). `addedRows` (n, D): textual-inversion
   * vectors the ids vocab_size .. vocab_size + n - 1 look up.
   */
  forward(ids: Tensor, options: { eosTokenId?: number; addedRows?: Tensor } = {}): { lastHiddenState: Tensor; pooled: Tensor } {
    const c = this.config;
    const [b, s] = ids.shape as [number, number];
    if (ids.rank !== 2 || s !== c.max_position_embeddings)
      throw new InputError(`CLIP text encoder: input_ids must be (B, ${c.max_position_embeddings}), got [${ids.shape.join(', ')}]`);
    // Textual inversion: new words' vectors (n, D) after the table's rows, read by ids vocab_size.. (see embedding-merge.ts).
    const tokens = options.addedRows
      ? gather(concat([this.tokenEmbedding.weight, options.addedRows], 0), ids, 0) // (B, S, D)
      : this.tokenEmbedding.forward(ids);
    let h = add(tokens, this.positionEmbedding.weight); // (B, S, D)
    for (const layer of this.layers) h = layer.forward(h);
    const last = this.finalLayerNorm.forward(h); // (B, S, D)

    // Row b picks position argmax(ids[b]): a one-hot (B, 1, S) times last (B, S, D).
    const g = ids.graph;
    const isEos = options.eosTokenId === undefined ? ids : cast(equal(ids, g.scalar(options.eosTokenId, ids.dtype)), 'int32'); // (B, S)
    const eos = reshape(argmax(isEos, -1), [b, 1]); // (B, 1) int64: the first maximum
    const positions = g.constant(
      BigInt64Array.from({ length: s }, (_, i) => BigInt(i)),
      [1, s],
      'int64',
      'positions',
    );
    const onehot = reshape(cast(equal(eos, positions), 'float32'), [b, 1, s]); // (B, 1, S)
    const pooled = reshape(matmul(onehot, last), [b, c.hidden_size]); // (B, D)
    return { lastHiddenState: last, pooled };
  }
}

export interface ClipBuildOptions extends BuildWeights {
  batch?: number;
  /** dtype of `input_ids`: int32 (diffusers' own ONNX export) or int64 (optimum). Default int32. */
  idsDtype?: 'int32' | 'int64';
  /** Pool at the first token with this id rather than at argmax(ids) (see ClipTextEncoder.forward). */
  eosTokenId?: number;
}

export interface BuiltClipText {
  graph: Graph;
  model: ClipTextEncoder;
  config: ClipTextConfig;
  input: Tensor;
  lastHiddenState: Tensor;
  pooled: Tensor;
}

export function buildClipTextEncoder(config: ClipTextConfig, options: ClipBuildOptions = {}): BuiltClipText {
  const g = new Graph();
  const model = new ClipTextEncoder(g, config, new Rng(options.seed ?? 0), options.init ?? 'pytorch');
  const input = g.input('input_ids', [options.batch ?? 1, config.max_position_embeddings], options.idsDtype ?? 'int32');
  const { lastHiddenState, pooled } = model.forward(input, options.eosTokenId === undefined ? {} : { eosTokenId: options.eosTokenId });
  return { graph: g, model, config, input, lastHiddenState, pooled };
}

/** text_encoder/model.onnx: input_ids -> last_hidden_state, pooler_output; batch dynamic. */
export function exportClipTextEncoder(built: BuiltClipText, options: { externalData?: string } = {}): ExportedModel {
  return exportOnnx(built.graph, {
    outputs: { last_hidden_state: built.lastHiddenState, pooler_output: built.pooled },
    params: 'initializers',
    name: 'text_encoder',
    dynamicAxes: { input_ids: { 0: 'batch' }, last_hidden_state: { 0: 'batch' }, pooler_output: { 0: 'batch' } },
    ...(options.externalData ? { externalData: { location: options.externalData } } : {}),
  });
}
