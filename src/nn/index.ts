/** gesso's neural-network layers, built on the graph builder (src/graph) and differentiable by src/autodiff. */
export { SiLU, GELU } from './activation.ts';
export { MultiHeadAttention, type AttentionOptions, type MultiHeadAttentionConfig } from './attention.ts';
export { Conv2d, ConvTranspose2d, type Conv2dConfig, type ConvTranspose2dConfig } from './conv.ts';
export { Dropout, type DropoutOptions } from './dropout.ts';
export { Embedding, type EmbeddingConfig } from './embedding.ts';
export * as init from './init.ts';
export type { WeightInit } from './init.ts';
export type { Layer } from './layer.ts';
export { Linear, type LinearConfig } from './linear.ts';
export { GroupNorm, InstanceNorm, LayerNorm, normalize, type GroupNormConfig, type InstanceNormConfig, type LayerNormConfig } from './norm.ts';
export { ResBlock, type ResBlockConfig } from './resblock.ts';
export { Sequential } from './sequential.ts';
export { sinusoidalTimestepEmbedding, timestepFrequencies, TimestepMLP, type TimestepEmbeddingOptions, type TimestepMLPConfig } from './timestep.ts';
export { Upsample, type UpsampleConfig } from './upsample.ts';
