export * from './elementwise.ts';
export * from './linalg.ts';
export * from './reduce.ts';
export * from './shape.ts';
export * from './conv.ts';
export * from './random.ts';
export * from './argmax.ts';
export type { Operand } from './util.ts';
export * from './depth-space.ts';
