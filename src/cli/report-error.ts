import { GessoError } from '../core/errors.ts';

/** node:util parseArgs errors (unknown flag, missing value): the user's mistake, reported as such. */
function isFlagError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/**
 * Prints an error that ended a command and returns the exit code: 2 and one line for the user's bad
 * input (GessoError, a bad flag); 1, the stack trace and a "this is a bug" line for anything else.
 */
export function reportError(err: unknown, print: (line: string) => void = (line) => console.error(line)): number {
  if (err instanceof GessoError || isFlagError(err)) {
    print(`gesso: ${(err as Error).message}`);
    return 2;
  }
  print(err instanceof Error ? (err.stack ?? err.message) : String(err));
  print('gesso: this is a bug in gesso, not something you did; please report it with the lines above.');
  return 1;
}
