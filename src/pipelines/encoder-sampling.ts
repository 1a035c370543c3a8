/**
 * VAE encoders that sample inside their graph. Folders exported by optimum ≤ 1.22 (and diffusers' own ONNX
 * script) put `latent_dist.sample()` into vae_encoder/model.onnx: mean + std · RandomNormalLike(mean), with
 * no seed, so img2img and inpainting with the same seed differ run to run. gesso replaces each unseeded
 * normal draw by its mean (zeros), which turns the graph's sample into the distribution's mean — what
 * gesso uses for encoders that output mean and log-variance, and what diffusers' `latent_dist.mode()` gives.
 */
import { readFileSync } from 'node:fs';
import { ATTR_TYPE, decodeModel, encodeModel, type NodeProtoObject, type TensorProtoObject } from '../graph/onnx-proto.ts';

const RANDOM_NORMAL = new Set(['RandomNormal', 'RandomNormalLike']);

export interface DeterministicEncoder {
  /** The rewritten model (load it from these bytes), or null when the graph draws no random numbers. */
  model: Uint8Array | null;
  /** Names of the nodes that were replaced. */
  replaced: string[];
}

/** Reads `path` and, when its graph draws unseeded normal noise, returns the graph with that noise set to its mean (0). */
export function withoutInGraphSampling(path: string): DeterministicEncoder {
  const bytes = readFileSync(path);
  const model = decodeModel(bytes);
  const nodes = model.graph?.node ?? [];
  const replaced: string[] = [];
  const rewritten = nodes.map((node, i): NodeProtoObject => {
    if (!RANDOM_NORMAL.has(node.op_type) || (node.domain ?? '') !== '') return node;
    const attr = (name: string) => node.attribute?.find((a) => a.name === name);
    if ((attr('mean')?.f ?? 0) !== 0) return node; // never exported for latent_dist.sample(); left as it is
    replaced.push(node.name || `#${i}`);
    return node.op_type === 'RandomNormalLike' ? zerosLike(node) : zerosOfShape(node, attr('shape')?.ints ?? []);
  });
  if (replaced.length === 0) return { model: null, replaced };
  return { model: encodeModel({ ...model, graph: { ...model.graph, node: rewritten } }), replaced };
}

/** RandomNormalLike(x) -> Sub(x, x): zeros with x's shape and type. */
function zerosLike(node: NodeProtoObject): NodeProtoObject {
  const input = node.input?.[0] ?? '';
  return { op_type: 'Sub', name: `${node.name ?? 'random'}_mean`, input: [input, input], output: node.output ?? [] };
}

/** RandomNormal(shape) -> Constant zeros of that shape (float32). */
function zerosOfShape(node: NodeProtoObject, shape: number[]): NodeProtoObject {
  const count = shape.reduce((a, b) => a * b, 1);
  const value: TensorProtoObject = { dims: shape, data_type: 1, raw_data: new Uint8Array(4 * count) };
  return {
    op_type: 'Constant',
    name: `${node.name ?? 'random'}_mean`,
    input: [],
    output: node.output ?? [],
    attribute: [{ name: 'value', type: ATTR_TYPE.TENSOR, t: value }],
  };
}
