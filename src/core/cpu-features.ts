/**
 * What this CPU offers, read once from /proc/cpuinfo's `flags` (Linux only; elsewhere the answer is
 * "unknown" and callers keep their portable path). One reader for every question gesso asks of the CPU:
 * ONNX Runtime's NCHWc block here, the kernel family recorded in recipes (src/runtime/runtime-info.ts).
 */
import { readFileSync } from 'node:fs';
import { arch } from 'node:process';

/** The flags of the first `flags :` line of a /proc/cpuinfo text, or null when it has none. */
export function parseCpuFlags(cpuinfo: string | null): ReadonlySet<string> | null {
  const line = cpuinfo?.match(/^flags\s*:(.*)$/m)?.[1];
  return line === undefined ? null : new Set(line.trim().split(/\s+/));
}

let flags: ReadonlySet<string> | null | undefined;

/** This machine's CPU flags (read once), or null when /proc/cpuinfo cannot tell. */
export function cpuFlags(): ReadonlySet<string> | null {
  if (flags === undefined) {
    try {
      flags = parseCpuFlags(readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      flags = null;
    }
  }
  return flags;
}

/**
 * MLAS's NCHWc channel block on this CPU: 16 with AVX-512F, 8 on other x86-64 CPUs, 0 when unknown
 * (not Linux, not x86-64). src/runtime/nchwc-probe.ts checks it against ORT itself before a session
 * that relies on it runs.
 */
export function nchwcBlockSize(): number {
  const f = arch === 'x64' ? cpuFlags() : null;
  if (f === null || f.size === 0) return 0;
  return f.has('avx512f') ? 16 : 8;
}
