/**
 * The server side of `npm run bench:server`, in its own process so that the event loop it measures is the
 * server's alone: starts `gesso serve` (in-process queue, concurrency 2) on a fresh data folder, fills the
 * library with 100k synthetic images, prints {"port", "db"} as a JSON line, then answers stdin commands:
 * "reset" clears the event-loop delay histogram; "report" prints {"p99Ms", "maxMs"} since the reset;
 * "stop" closes the server and exits.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startServer } from '../src/server/serve.ts';
import { fillLibrary } from './lib/synthetic-library.ts';

const [dataDir, size] = process.argv.slice(2) as [string, string];
const server = await startServer({ dataDir, port: 0, concurrency: 2 });
const user = server.studio.users.local();
const started = performance.now();
fillLibrary(server.studio.db, user.id, Number(size));
server.studio.db.pragma('optimize'); // what the next start does (openDatabase)
const fillSeconds = (performance.now() - started) / 1000;
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
console.log(JSON.stringify({ port: server.port, db: join(server.studio.dataDir, 'gesso.db'), fillSeconds }));
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'reset') loop.reset();
  else if (line === 'report') console.log(JSON.stringify({ p99Ms: loop.percentile(99) / 1e6, maxMs: loop.max / 1e6 }));
  else if (line === 'stop') break;
}
loop.disable();
await server.close();
process.exit(0); // stdin stays open in the parent: do not wait for it
