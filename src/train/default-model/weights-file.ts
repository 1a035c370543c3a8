/** A stage's trained values as a flat safetensors file (name -> 1-D float32), with string metadata. */
import { readSafetensors, toFloat32, writeSafetensors } from '../../weights/safetensors.ts';

export function saveValues(path: string, values: ReadonlyMap<string, Float32Array>, metadata: Record<string, string> = {}): void {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, v] of values) tensors[name] = { dtype: 'F32', shape: [v.length], data: v };
  writeSafetensors(path, tensors, metadata);
}

export function loadValues(path: string): { values: Map<string, Float32Array>; metadata: Record<string, string> } {
  const file = readSafetensors(path, path);
  return { values: new Map([...file.tensors].map(([name, t]) => [name, Float32Array.from(toFloat32(t))])), metadata: file.metadata };
}
