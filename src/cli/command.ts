/** One `gesso` subcommand's module: full usage text and its action. */
export interface Command {
  usage: string;
  /**
   * Usage of each target a first positional names (`gesso train finetune --help` prints only
   * `targets.finetune`); `usage` is all of them.
   */
  targets?: Readonly<Record<string, string>>;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/**
 * A subcommand as `gesso --help` lists it. The module is loaded only when the command runs, so
 * `gesso --help` starts without loading ONNX Runtime, sharp or any model code.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}
