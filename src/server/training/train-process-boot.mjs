// Entry file of a training process when gesso runs from sources: register tsx's loader, then load the
// TypeScript body (compiled, dist/server/training/train-process.js is started directly).
import { register } from 'tsx/esm/api';

register();
await import('./train-process.ts');
