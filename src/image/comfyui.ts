// A summary of a ComfyUI API-format graph (the `prompt` PNG text chunk ComfyUI writes): a map from node id
// to `{ class_type, inputs }`, where an input is a literal or a link `[sourceNodeId, outputIndex]`.
// The summary follows the sampler's links upstream: `positive`/`negative` to the text encoders, `model` to
// the checkpoint loader, `latent_image` to the empty latent that gives the size.
import { isJsonObject, type JsonObject, type JsonValue } from '../core/json.ts';

export interface ComfyUiSummary {
  /** The sampler node's class_type, e.g. KSampler or KSamplerAdvanced. */
  samplerNode: string;
  positivePrompt?: string;
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  cfg?: number;
  sampler?: string;
  scheduler?: string;
  denoise?: number;
  model?: string;
  width?: number;
  height?: number;
}

type Node = { id: string; classType: string; inputs: JsonObject };

function nodesOf(graph: JsonObject): Map<string, Node> {
  const nodes = new Map<string, Node>();
  for (const [id, value] of Object.entries(graph)) {
    if (!isJsonObject(value) || typeof value.class_type !== 'string') continue;
    nodes.set(id, { id, classType: value.class_type, inputs: isJsonObject(value.inputs) ? value.inputs : {} });
  }
  return nodes;
}

function linkTarget(value: JsonValue | undefined): string | undefined {
  if (Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number') && typeof value[1] === 'number') {
    return String(value[0]);
  }
  return undefined;
}

/** Breadth-first upstream from `start`'s input `input`: the nearest node that `accept` takes (depth-limited). */
function findUpstream(nodes: Map<string, Node>, start: Node, input: string, accept: (n: Node) => boolean): Node | undefined {
  const first = linkTarget(start.inputs[input]);
  if (first === undefined) return undefined;
  const queue = [first];
  const seen = new Set<string>(queue);
  for (let i = 0; i < queue.length && i < 200; i++) {
    const node = nodes.get(queue[i]!);
    if (!node) continue;
    if (accept(node)) return node;
    for (const value of Object.values(node.inputs)) {
      const next = linkTarget(value);
      if (next !== undefined && !seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** A literal input, or the literal a linked primitive node holds (seed and prompt widgets are often such nodes). */
function literal(nodes: Map<string, Node>, node: Node, names: string[]): JsonValue | undefined {
  for (const name of names) {
    const value = node.inputs[name];
    if (value === undefined) continue;
    const target = linkTarget(value);
    if (target === undefined) return value;
    const source = nodes.get(target);
    if (!source) continue;
    for (const v of Object.values(source.inputs)) if (linkTarget(v) === undefined && (typeof v === 'string' || typeof v === 'number')) return v;
  }
  return undefined;
}

function asNumber(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function asString(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const isTextEncoder = (n: Node) => /TextEncode/i.test(n.classType) || typeof n.inputs.text === 'string';

function promptText(nodes: Map<string, Node>, sampler: Node, input: string): string | undefined {
  const encoder = findUpstream(nodes, sampler, input, isTextEncoder);
  if (!encoder) return undefined;
  const text = asString(literal(nodes, encoder, ['text']));
  if (text !== undefined) return text;
  // SDXL's encoder has two prompts, one per text encoder.
  const parts = ['text_g', 'text_l'].map((k) => asString(literal(nodes, encoder, [k]))).filter((t): t is string => t !== undefined && t !== '');
  return parts.length > 0 ? [...new Set(parts)].join('\n') : undefined;
}

/** The sampler to describe: a KSampler fed by an empty latent (the first pass), else the first sampler by node id. */
function pickSampler(nodes: Map<string, Node>): Node | undefined {
  const samplers = [...nodes.values()].filter((n) => /KSampler/i.test(n.classType)).sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  // The nearest latent source upstream that is an empty latent or another sampler: only the former is a first pass.
  const isFirstPass = (s: Node) => {
    const source = findUpstream(nodes, s, 'latent_image', (n) => /EmptyLatent|KSampler/i.test(n.classType));
    return source !== undefined && /EmptyLatent/i.test(source.classType);
  };
  const firstPass = samplers.find(isFirstPass);
  return firstPass ?? samplers[0];
}

/** The settings of a ComfyUI API-format graph, or undefined when it has no KSampler-like node. */
export function summariseComfyUiPrompt(graph: JsonValue): ComfyUiSummary | undefined {
  if (!isJsonObject(graph)) return undefined;
  const nodes = nodesOf(graph);
  const sampler = pickSampler(nodes);
  if (!sampler) return undefined;
  const summary: ComfyUiSummary = { samplerNode: sampler.classType };
  const set = <K extends keyof ComfyUiSummary>(key: K, value: ComfyUiSummary[K] | undefined) => {
    if (value !== undefined) summary[key] = value;
  };
  set('positivePrompt', promptText(nodes, sampler, 'positive'));
  set('negativePrompt', promptText(nodes, sampler, 'negative'));
  set('seed', asNumber(literal(nodes, sampler, ['seed', 'noise_seed'])));
  set('steps', asNumber(literal(nodes, sampler, ['steps'])));
  set('cfg', asNumber(literal(nodes, sampler, ['cfg'])));
  set('sampler', asString(literal(nodes, sampler, ['sampler_name'])));
  set('scheduler', asString(literal(nodes, sampler, ['scheduler'])));
  set('denoise', asNumber(literal(nodes, sampler, ['denoise'])));
  const loader = findUpstream(nodes, sampler, 'model', (n) => typeof n.inputs.ckpt_name === 'string' || typeof n.inputs.unet_name === 'string');
  set('model', asString(loader?.inputs.ckpt_name) ?? asString(loader?.inputs.unet_name));
  const latent = findUpstream(nodes, sampler, 'latent_image', (n) => typeof n.inputs.width === 'number' && typeof n.inputs.height === 'number');
  set('width', asNumber(latent?.inputs.width));
  set('height', asNumber(latent?.inputs.height));
  return summary;
}
