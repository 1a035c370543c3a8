/** Starts the engine peers as child processes and returns their checked reports. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runJsonChild } from './child.ts';
import { parsePeerReport, type PeerReport } from './results.ts';

const PEERS_DIR = fileURLToPath(new URL('../peers/', import.meta.url));

/** Removed from the PyTorch child's environment only (DESIGN.md §6). */
export const TORCH_UNSET_ENV = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

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
}

export async function runTorchPeer(opts: TorchRunOptions): Promise<PeerReport> {
  const args = [`${PEERS_DIR}torch_engine.py`, ...(opts.quick ? ['--quick'] : []), ...(opts.matmulOnly === true ? ['--matmul-only'] : [])];
  const setEnv: Record<string, string> = opts.openblasCoretype === undefined ? {} : { OPENBLAS_CORETYPE: opts.openblasCoretype };
  const json = await runJsonChild(torchPython(), args, 'torch peer', {
    unsetEnv: TORCH_UNSET_ENV,
    setEnv,
    timeoutMs: opts.timeoutMs,
    echoStderr: '  ',
  });
  return parsePeerReport(json, 'torch peer');
}

export async function runTfjsPeer(opts: PeerRunOptions): Promise<PeerReport> {
  const args = ['--import', 'tsx', `${PEERS_DIR}tfjs_engine.ts`, ...(opts.quick ? ['--quick'] : [])];
  const json = await runJsonChild(process.execPath, args, 'tfjs peer', { timeoutMs: opts.timeoutMs, echoStderr: '  ' });
  return parsePeerReport(json, 'tfjs peer');
}
