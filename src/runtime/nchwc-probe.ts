/**
 * Asks ONNX Runtime for its NCHWc block size: a one-node model reorders a (1, 4, 1, 1) tensor (channels must be a multiple of 4), whose
 * channel dim comes back padded to one block. A graph lowered with another block size would compute
 * wrong numbers, so a session built with `nchwcBlock` checks it here first.
 */
import ort from 'onnxruntime-node';
import { GessoError } from '../core/errors.ts';
import { encodeModel, ONNX_DTYPE } from '../graph/onnx-proto.ts';

let probed: Promise<number> | undefined;

export function ortNchwcBlockSize(): Promise<number> {
  probed ??= (async () => {
    const io = (name: string) => ({
      name,
      type: { tensor_type: { elem_type: ONNX_DTYPE.float32, shape: { dim: [{ dim_value: 1 }, { dim_value: 4 }, { dim_value: 1 }, { dim_value: 1 }] } } },
    });
    const model = encodeModel({
      ir_version: 8,
      opset_import: [
        { domain: '', version: 18 },
        { domain: 'com.microsoft.nchwc', version: 1 },
      ],
      producer_name: 'gesso',
      graph: {
        name: 'nchwc_probe',
        node: [{ op_type: 'ReorderInput', domain: 'com.microsoft.nchwc', name: 'reorder', input: ['x'], output: ['y'] }],
        input: [io('x')],
        output: [{ name: 'y' }],
      },
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 4 });
    try {
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
      return (out['y'] as ort.Tensor).dims[1] as number;
    } finally {
      await session.release();
    }
  })();
  return probed;
}

/** Throws unless ORT's block size is `block` (0: the graph uses no NCHWc ops, nothing to check). */
export async function checkNchwcBlock(block: number, what: string): Promise<void> {
  if (block === 0) return;
  const ort = await ortNchwcBlockSize().catch(() => 0);
  if (ort !== block)
    throw new GessoError(
      `${what} was built for ONNX Runtime's NCHWc block ${block}, but this runtime's block is ${ort || 'unavailable'}; rebuild it with nchwcBlock: ${ort}`,
    );
}
