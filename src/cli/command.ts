/** One `gesso` subcommand: its name, a one-line summary for `gesso --help`, full usage text, and its action. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
