// Entry file of a training thread when gesso runs from sources: workers do not inherit tsx's loader when
// it was registered in code, so register it here, then load the TypeScript body (as runtime/worker-thread-boot.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./train-thread.ts');
