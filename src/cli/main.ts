import { commands } from './commands/index.ts';
import { GessoError } from '../core/errors.ts';
import { escapeForTerminal } from '../core/terminal-text.ts';
import { cliArguments } from './long-argv.ts';

function printHelp(): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  console.log('gesso: an AI art studio that runs on a laptop with no GPU and no internet.\n');
  console.log('Usage: gesso <command> [options]\n\nCommands:');
  for (const c of commands) console.log(`  ${c.name.padEnd(width)}  ${c.summary}`);
  console.log('\nRun `gesso <command> --help` for the options of one command.');
}

/** node:util parseArgs errors (unknown flag, missing value): the user's mistake, reported as such. */
function isFlagError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
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
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}

try {
  process.exitCode = await main(cliArguments());
} catch (err) {
  if (err instanceof GessoError || isFlagError(err)) {
    console.error(`gesso: ${escapeForTerminal((err as Error).message)}`); // messages quote file names and metadata
    process.exitCode = 2;
  } else {
    throw err;
  }
}
