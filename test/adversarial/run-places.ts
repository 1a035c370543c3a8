/**
 * Runs gesso commands in this one process (far faster than a process each) and prints one JSON line
 * per case: { name, ok, message }. Used by input-files.test.ts inside a child with a time limit, so a
 * case that hangs or runs away fails the test instead of blocking it.
 *   node --import tsx test/adversarial/run-places.ts CASES.json
 * CASES.json: [{ "name": "...", "args": ["info", "/dev/zero"] }, ...]
 */
import { readFileSync } from 'node:fs';
import { commands } from '../../src/cli/commands/index.ts';

interface Case {
  name: string;
  args: string[];
}

const cases = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Case[];
const log = console.log;
for (const c of cases) {
  const [name, ...rest] = c.args;
  const command = commands.find((x) => x.name === name);
  let result: { name: string; ok: boolean; message: string };
  console.log = () => undefined; // the commands' own output is not part of the result
  try {
    if (!command) throw new Error(`no command ${String(name)}`);
    await (await command.load()).run(rest);
    result = { name: c.name, ok: true, message: '' };
  } catch (err) {
    const e = err as Error;
    result = { name: c.name, ok: false, message: `${e.name}: ${e.message}` };
  } finally {
    console.log = log;
  }
  log(JSON.stringify(result));
}
// Peak memory of the whole run, for the bomb tests' ceiling.
log(JSON.stringify({ maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
