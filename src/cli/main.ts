import { commands } from './commands/index.ts';
import { cliArguments } from './long-argv.ts';
import { reportError } from './report-error.ts';

function printHelp(): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  console.log('gesso: an AI art studio that runs on a laptop with no GPU and no internet.\n');
  console.log('Usage: gesso <command> [options]\n\nCommands:');
  for (const c of commands) console.log(`  ${c.name.padEnd(width)}  ${c.summary}`);
  console.log('\nRun `gesso <command> --help` for the options of one command.');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`gesso: unknown command "${name}"; expected one of: ${commands.map((c) => c.name).join(', ')}`);
    return 2;
  }
  const module = await command.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    const targets = module.targets ?? {};
    const target = rest[0] !== undefined && Object.hasOwn(targets, rest[0]) ? targets[rest[0]] : undefined;
    console.log(target ?? module.usage);
    return 0;
  }
  return module.run(rest);
}

try {
  process.exitCode = await main(cliArguments());
} catch (err) {
  process.exitCode = reportError(err);
}
