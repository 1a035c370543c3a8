/**
 * What this CPU offers ONNX Runtime's MLAS kernels, read from /proc/cpuinfo (Linux only; elsewhere the
 * answer is "unknown" and callers keep their portable path).
 */
import { readFileSync } from 'node:fs';
import { arch } from 'node:process';

let cached: number | undefined;

/**
 * MLAS's NCHWc channel block on this CPU: 16 with AVX-512F, 8 on other x86-64 CPUs, 0 when unknown
 * (not Linux, not x86-64). src/runtime/nchwc-probe.ts checks it against ORT itself before a session
 * that relies on it runs.
 */
export function nchwcBlockSize(): number {
  if (cached !== undefined) return cached;
  cached = 0;
  if (arch === 'x64') {
    try {
      const flags =
        readFileSync('/proc/cpuinfo', 'utf8')
          .match(/^flags\s*:(.*)$/m)?.[1]
          ?.split(/\s+/) ?? [];
      if (flags.length > 0) cached = flags.includes('avx512f') ? 16 : 8;
    } catch {
      cached = 0;
    }
  }
  return cached;
}
