// Entry file of a session worker. Workers do not inherit tsx's loader when it was registered in code
// (bin/gesso.js calls register()), so register it here, then load the TypeScript body. Registering a
// second time, as under `node --import tsx`, is harmless.
import { register } from 'tsx/esm/api';

register();
await import('./worker-thread.ts');
