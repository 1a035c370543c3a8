/**
 * Which numerical runtime computes gesso's tensors: onnxruntime-node's version and the family of CPU
 * kernels ORT's MLAS picks at run time (AVX-512, AVX2, SSE; other architectures by name). Two machines
 * with the same pair give the same bytes for the same model and inputs; another ORT version or kernel
 * family rounds differently, so images may differ by a pixel level or two. Recipes record this pair.
 */
import { cpuFlags, parseCpuFlags } from '../core/cpu-features.ts';
import { createRequire } from 'node:module';

export interface RuntimeInfo {
  /** onnxruntime-node's version, from its package.json. */
  ort: string;
  /** 'avx512', 'avx2' or 'sse' on x86-64 (from /proc/cpuinfo); otherwise the architecture, e.g. 'arm64'. */
  cpu: string;
}

let cached: RuntimeInfo | null = null;

/** This process's runtime (read once). */
export function runtimeInfo(): RuntimeInfo {
  cached ??= { ort: ortVersion(), cpu: kernelFamily(cpuFlags(), process.arch) };
  return { ...cached };
}

/** The x86 kernel family from /proc/cpuinfo's `flags`: avx512f → avx512, avx2 → avx2, else sse. */
export function cpuKernelFamily(cpuinfo: string | null, arch: string): string {
  return kernelFamily(parseCpuFlags(cpuinfo), arch);
}

function kernelFamily(flags: ReadonlySet<string> | null, arch: string): string {
  if (arch !== 'x64' && arch !== 'ia32') return arch;
  if (flags === null) return `${arch}-unknown`; // no /proc/cpuinfo (not Linux): the family cannot be told
  if (flags.has('avx512f')) return 'avx512';
  if (flags.has('avx2')) return 'avx2';
  return 'sse';
}

/** True when both runtimes are known and equal (same ORT version, same kernel family). */
export function sameRuntime(a: RuntimeInfo | null, b: RuntimeInfo): boolean {
  return a !== null && a.ort === b.ort && a.cpu === b.cpu;
}

/** "ORT 1.30.0, avx512 kernels" */
export function describeRuntime(r: RuntimeInfo): string {
  return `ORT ${r.ort}, ${r.cpu} kernels`;
}

function ortVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('onnxruntime-node/package.json') as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
