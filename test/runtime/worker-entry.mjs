// Starts gesso the way bin/gesso.js does (tsx registered in code, no --import flag), opens a
// WorkerSession, runs it once and prints the result. Deliberately never calls release(): the
// process must still exit on its own.
import { register } from 'tsx/esm/api';

register();
const { WorkerSession } = await import('../../src/runtime/worker-session.ts');
const { tensor } = await import('../../src/runtime/tensor.ts');
const { affineModel } = await import('./fixtures.ts');

const session = await WorkerSession.create(affineModel());
const out = await session.run({
  x: tensor('float32', [1, 3], [1, 2, 3]),
  w: tensor('float32', [3], [2, 2, 2]),
  b: tensor('float32', [3], [1, 1, 1]),
  timestep: tensor('int64', [1], [41n]),
});
console.log(JSON.stringify({ execArgv: process.execArgv, y: [...out.y.data], t: String(out.t_next.data[0]) }));
