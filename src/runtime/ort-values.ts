/**
 * Conversions between gesso's types and onnxruntime-node's: host tensors, value metadata and session
 * options. Tensor conversions never copy: an ort.Tensor and its HostTensor share one typed array.
 */
import ort from 'onnxruntime-node';
import { InputError } from '../core/errors.ts';
import type { ModelDType, SessionOptions, ValueInfo } from './runner.ts';
import { isDType, type HostTensor, type TensorData } from './tensor.ts';
import { checkThreadCount, defaultThreads } from './threads.ts';

export function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data, t.dims);
}

export function fromOrt(t: ort.Tensor, what: string): HostTensor {
  if (!isDType(t.type)) throw new InputError(`${what} has dtype ${t.type}, which gesso cannot read`);
  return { dtype: t.type, dims: [...t.dims], data: t.data as TensorData };
}

export function valueInfos(metadata: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, dtype: m.type as ModelDType, shape: [...m.shape] } : { name: m.name, dtype: 'non-tensor', shape: [] },
  );
}

export function ortSessionOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  const threads = defaultThreads();
  const spin = options.allowSpinning ? '1' : '0';
  const out: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    logSeverityLevel: options.logSeverityLevel ?? 4,
    intraOpNumThreads: options.intraOpThreads !== undefined ? checkThreadCount(options.intraOpThreads, 'intra-op threads') : threads.intraOp,
    // Sequential mode (the default) has no inter-op pool, so this matters only for 'parallel'.
    interOpNumThreads: options.interOpThreads !== undefined ? checkThreadCount(options.interOpThreads, 'inter-op threads') : threads.interOp,
    // The node binding flattens `extra` into session config keys: session.intra_op.allow_spinning etc.
    extra: {
      session: {
        intra_op: { allow_spinning: spin },
        inter_op: { allow_spinning: spin },
        ...(options.dynamicBlockBase !== undefined ? { dynamic_block_base: String(options.dynamicBlockBase) } : {}),
      },
    },
  };
  if (options.graphOptimizationLevel !== undefined) out.graphOptimizationLevel = options.graphOptimizationLevel;
  if (options.enableCpuMemArena !== undefined) out.enableCpuMemArena = options.enableCpuMemArena;
  if (options.enableMemPattern !== undefined) out.enableMemPattern = options.enableMemPattern;
  if (options.executionMode !== undefined) out.executionMode = options.executionMode;
  return out;
}
