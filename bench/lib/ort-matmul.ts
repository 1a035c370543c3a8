/**
 * ONNX Runtime's side of the machine ceiling: a one-node ONNX model C = A·B (float32, n×n, both
 * operands as graph inputs) run by onnxruntime-node directly. bench/ may import onnxruntime-node;
 * gesso's own code goes through src/runtime/.
 */
import * as ort from 'onnxruntime-node';
import { encodeModel, ONNX_DTYPE, type ValueInfoProtoObject } from '../../src/graph/onnx-proto.ts';
import { Rng } from '../../src/core/rng.ts';
import { timeRounds, type RoundsOptions } from './rounds.ts';

function matrixInput(name: string, n: number): ValueInfoProtoObject {
  return {
    name,
    type: { tensor_type: { elem_type: ONNX_DTYPE.float32, shape: { dim: [{ dim_value: n }, { dim_value: n }] } } },
  };
}

/** ONNX bytes of a model computing C = A·B for n×n float32 inputs A and B. */
export function matmulModel(n: number): Uint8Array {
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'gesso-bench',
    graph: {
      name: 'matmul_ceiling',
      node: [{ op_type: 'MatMul', name: 'matmul', input: ['A', 'B'], output: ['C'] }],
      input: [matrixInput('A', n), matrixInput('B', n)],
      output: [matrixInput('C', n)],
    },
  });
}

export interface OrtMatmulOptions extends RoundsOptions {
  n: number;
  threads: number;
}

/** Times ORT's n×n MatMul; returns the timed rounds in ms (one session, released at the end). */
export async function timeOrtMatmul(opts: OrtMatmulOptions): Promise<number[]> {
  const session = await ort.InferenceSession.create(matmulModel(opts.n), {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const rng = new Rng(1);
    const feeds = {
      A: new ort.Tensor('float32', rng.normal(opts.n * opts.n), [opts.n, opts.n]),
      B: new ort.Tensor('float32', rng.normal(opts.n * opts.n), [opts.n, opts.n]),
    };
    return await timeRounds(async () => {
      const out = await session.run(feeds);
      out.C.dispose();
    }, opts);
  } finally {
    await session.release();
  }
}
