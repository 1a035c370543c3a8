/**
 * Lowers a Conv whose weight is only known at run time (a training step's parameter input, the flipped
 * weight of dX) to ONNX Runtime's blocked NCHWc kernels (domain `com.microsoft.nchwc`).
 *
 * ORT rewrites a Conv to NCHWc by itself only when the weight is an initializer: it reorders the weight
 * once, at load time. A training graph feeds the weight as an input, so ORT falls back to im2col + GEMM,
 * ~1.3× slower (DESIGN.md §1). Here the weight is reordered inside the graph instead (Reshapes and two
 * single-axis Transposes: about 0.1 ms for a 128×128×3×3 weight) and the activation goes through ReorderInput /
 * ReorderOutput around the blocked Conv, exactly what ORT's own rewrite emits.
 *
 * Weight layouts, as MLAS's filter reorder writes them (B = block size: 16 with AVX-512, 8 with AVX2):
 *   Cin a multiple of B: OIHWBiBo, (O/B, I/B, kH, kW, Bi, Bo), and the input is reordered to blocks;
 *   Cin < 8 (an RGB stem):  OIHWBo,  (O/B, I, kH, kW, Bo),          and the input stays NCHW.
 * Other shapes (O not a multiple of B, groups, 1-D or 3-D convs) keep the standard Conv.
 */
import type { Node, Tensor } from './graph.ts';
import type { NodeProtoObject, TensorProtoObject } from './onnx-proto.ts';
import { ATTR_TYPE, ONNX_DTYPE } from './onnx-proto.ts';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/** Whether a Conv with this weight (O, I, ...) and group runs blocked: the shapes MLAS's filter reorders take. */
export function fitsNchwc(o: number, i: number, group: number, block: number): boolean {
  return block > 0 && group === 1 && o % block === 0 && (i % block === 0 || i < 8);
}

/** Blocked Conv protos for `n`, or null when its shape does not fit NCHWc. */
export function lowerConvToNchwc(
  n: Node,
  block: number,
  fresh: (base: string) => string,
): { nodes: NodeProtoObject[]; initializers: TensorProtoObject[] } | null {
  const [x, w, b] = n.inputs as [Tensor, Tensor, Tensor | null | undefined];
  if (n.op !== 'Conv' || n.domain !== undefined || w.rank !== 4 || x.dtype !== 'float32') return null;
  const groupAttr = n.attrs['group'];
  const group = groupAttr !== undefined && 'i' in groupAttr ? groupAttr.i : 1;
  const [o, i, kh, kw] = w.shape as [number, number, number, number];
  if (!fitsNchwc(o, i, group, block)) return null;
  const blockedInput = i % block === 0;

  const nodes: NodeProtoObject[] = [];
  const initializers: TensorProtoObject[] = [];
  const shapeConst = (dims: number[]): string => {
    const name = fresh(`${n.name}_nchwc_shape`);
    initializers.push({ name, dims: [dims.length], data_type: ONNX_DTYPE.int64, raw_data: new Uint8Array(BigInt64Array.from(dims.map(BigInt)).buffer) });
    return name;
  };
  const step = (op: string, inputs: string[], attribute: NodeProtoObject['attribute'] = [], domain?: string): string => {
    const out = fresh(`${n.name}_nchwc_${op.toLowerCase()}`);
    nodes.push({ op_type: op, name: out, input: inputs, output: [out], attribute, ...(domain ? { domain } : {}) });
    return out;
  };

  // Weight (O, I, kH, kW) -> blocked, then back to a 4-D shape the NCHWc Conv reads its kernel size from.
  // Each Transpose moves a single axis: ORT copies those in runs, where a general permutation goes
  // element by element (measured ~4x slower for a 128x128x3x3 weight, see weightReorderBarrier).
  const transposeTo = (input: string, dims: number[], perm: number[]): string =>
    step('Transpose', [step('Reshape', [input, shapeConst(dims)])], [{ name: 'perm', type: ATTR_TYPE.INTS, ints: perm }]);
  const outLast = transposeTo(w.name, [o / block, block, i * kh * kw], [0, 2, 1]); // (O/B, I·kH·kW, Bo): OIHWBo
  const wt = blockedInput
    ? transposeTo(step('Add', [outLast, weightReorderBarrier(block, initializers, fresh)]), [o / block, i / block, block, kh * kw, block], [0, 1, 3, 2, 4]) // (O/B, I/B, kH·kW, Bi, Bo): OIHWBiBo
    : outLast;
  const wBlocked = step('Reshape', [wt, shapeConst([o, i, kh, kw])]);

  const xIn = blockedInput ? step('ReorderInput', [x.name], [], NCHWC_DOMAIN) : x.name;
  const attribute = Object.entries(n.attrs)
    .filter(([name]) => ['strides', 'pads', 'dilations'].includes(name))
    .map(([name, a]) => ({ name, type: ATTR_TYPE.INTS, ints: [...(a as { ints: readonly number[] }).ints] }));
  const yBlocked = step('Conv', b ? [xIn, wBlocked, b.name] : [xIn, wBlocked], attribute, NCHWC_DOMAIN);
  const y = n.outputs[0] as Tensor;
  nodes.push({
    op_type: 'ReorderOutput',
    name: fresh(`${n.name}_nchwc_out`),
    input: [yBlocked],
    output: [y.name],
    attribute: [{ name: 'channels', type: ATTR_TYPE.INT, i: o }],
    domain: NCHWC_DOMAIN,
  });
  return { nodes, initializers };
}

/**
 * A zero (1, 1, B) added between the weight reorder's two Transposes. Without it ORT's transpose
 * optimizer merges them back into one general permutation (a 5-D perm (0, 2, 4, 3, 1)), which its CPU
 * kernel runs element by element. A scalar zero would be removed as a no-op; a (1, 1, B) one is not,
 * and costs one pass over the weight.
 */
function weightReorderBarrier(block: number, initializers: TensorProtoObject[], fresh: (base: string) => string): string {
  const name = fresh('nchwc_reorder_zero');
  initializers.push({ name, dims: [1, 1, block], data_type: ONNX_DTYPE.float32, raw_data: new Uint8Array(4 * block) });
  return name;
}
