/** Starts the engine peers as child processes and returns their checked reports. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runJsonChild } from './child.ts';
import { parsePeerReport, type PeerReport } from './results.ts';

const PEERS_DIR = fileURLToPath(new URL('../peers/', import.meta.url));

/** Removed from the PyTorch child's environment only (DESIGN.md §6). */
export const TORCH_UNSET_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/**
 * GLIBC_TUNABLES that make glibc keep freed memory: PyTorch allocates its blocked copies and outputs
 * afresh on every call, and without this glibc returns them to the kernel and the next call page-faults
 * them in again (docs/engine-dnnl.md). PyTorch at its best runs with it.
 */
export const GLIBC_KEEP_MEMORY = 'glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296';

/**
 * The Python that has Debian's python3-torch: $GESSO_BENCH_PYTHON, else /usr/bin/python3 (a
 * pyenv or venv python3 earlier on PATH usually lacks torch), else python3 from PATH.
 */
export function torchPython(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env.GESSO_BENCH_PYTHON;
  if (chosen !== undefined && chosen !== '') return chosen;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export interface PeerRunOptions {
  quick: boolean;
  /** Kill the peer after this long. */
  timeoutMs: number;
}

export interface TorchRunOptions extends PeerRunOptions {
  /** Opt-in OPENBLAS_CORETYPE for the torch child (set after the removal above). */
  openblasCoretype?: string;
  /** Time only the 2048³ MatMul (the ceiling), no workloads. */
  matmulOnly?: boolean;
  /** Run the forward passes under bf16 autocast (reported as peer "torch-bf16"). */
  autocastBf16?: boolean;
  /** Run with GLIBC_KEEP_MEMORY (reported as peer "torch-kept"). */
  keepFreedMemory?: boolean;
  /** torch.set_num_threads (default 2). */
  threads?: number;
  /** Time the conv net only (no transformer). */
  convnetOnly?: boolean;
  /** Conv weights and biases get no gradient: the step without conv dW (bench/engine_dw_bound.ts). */
  freezeConvWeights?: boolean;
  /** Untimed and timed rounds (default: the peer's own, by --quick). */
  warmup?: number;
  rounds?: number;
}

export async function runTorchPeer(opts: TorchRunOptions): Promise<PeerReport> {
  const args = [
    `${PEERS_DIR}torch_engine.py`,
    ...(opts.quick ? ['--quick'] : []),
    ...(opts.matmulOnly === true ? ['--matmul-only'] : []),
    ...(opts.autocastBf16 === true ? ['--autocast', 'bf16'] : []),
    ...(opts.threads === undefined ? [] : ['--threads', String(opts.threads)]),
    ...(opts.convnetOnly === true ? ['--convnet-only'] : []),
    ...(opts.freezeConvWeights === true ? ['--freeze-conv-weights'] : []),
    ...(opts.warmup === undefined ? [] : ['--warmup', String(opts.warmup)]),
    ...(opts.rounds === undefined ? [] : ['--rounds', String(opts.rounds)]),
  ];
  const setEnv: Record<string, string> = {
    ...(opts.openblasCoretype === undefined ? {} : { OPENBLAS_CORETYPE: opts.openblasCoretype }),
    ...(opts.keepFreedMemory === true ? { GLIBC_TUNABLES: GLIBC_KEEP_MEMORY } : {}),
  };
  const json = await runJsonChild(torchPython(), args, 'torch peer', {
    unsetEnv: TORCH_UNSET_ENV,
    setEnv,
    timeoutMs: opts.timeoutMs,
    echoStderr: '  ',
  });
  return parsePeerReport(json, 'torch peer');
}

/** One OPENBLAS_CORETYPE tried for the PyTorch peer: its MatMul rate and error against float64. */
export interface BlasCheck {
  /** The OPENBLAS_CORETYPE set, or null for unset (OpenBLAS picks by itself). */
  coretype: string | null;
  /** The kernel OpenBLAS reports running (openblas_get_corename), or null without OpenBLAS. */
  corename: string | null;
  matmulMs: number[];
  /** max |float32 product − float64 product| / max |float64 product| for a 512³ product. */
  maxRelErr: number;
}

/** Runs the torch peer's --blas-check under one OPENBLAS_CORETYPE (null: unset). */
export async function runTorchBlasCheck(coretype: string | null, opts: PeerRunOptions): Promise<BlasCheck> {
  const json = await runJsonChild(torchPython(), [`${PEERS_DIR}torch_engine.py`, '--blas-check', ...(opts.quick ? ['--quick'] : [])], 'torch BLAS check', {
    unsetEnv: TORCH_UNSET_ENV,
    setEnv: coretype === null ? {} : { OPENBLAS_CORETYPE: coretype },
    timeoutMs: opts.timeoutMs,
    echoStderr: false,
  });
  const v = json as { corename?: unknown; matmul_ms?: unknown; max_rel_err?: unknown };
  if (!Array.isArray(v.matmul_ms) || typeof v.max_rel_err !== 'number') throw new Error(`torch BLAS check printed ${JSON.stringify(json)}`);
  return { coretype, corename: typeof v.corename === 'string' ? v.corename : null, matmulMs: v.matmul_ms.map(Number), maxRelErr: v.max_rel_err };
}

export async function runTfjsPeer(opts: PeerRunOptions): Promise<PeerReport> {
  const args = ['--import', 'tsx', `${PEERS_DIR}tfjs_engine.ts`, ...(opts.quick ? ['--quick'] : [])];
  const json = await runJsonChild(process.execPath, args, 'tfjs peer', { timeoutMs: opts.timeoutMs, echoStderr: '  ' });
  return parsePeerReport(json, 'tfjs peer');
}
