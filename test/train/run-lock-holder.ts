// A process that takes a run folder's lock (argv: run folder, hold ms, log file; hold ms -1 = until killed),
// appends "start <pid>" / "end <pid>" around its hold to the log file, and prints "locked" once it holds it.
import { appendFileSync } from 'node:fs';
import { acquireRunLock } from '../../src/train/run-lock.ts';

const [runDir, holdMs, logFile] = process.argv.slice(2) as [string, string, string];
await acquireRunLock(runDir, { waitMs: 60_000 });
appendFileSync(logFile, `start ${process.pid}\n`);
process.stdout.write('locked\n');
const hold = Number(holdMs);
if (hold < 0) setInterval(() => {}, 1000);
else {
  await new Promise((r) => setTimeout(r, hold));
  appendFileSync(logFile, `end ${process.pid}\n`);
  process.exit(0); // the lock goes with the process ('exit' handler)
}
