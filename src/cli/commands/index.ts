import type { Command } from '../command.ts';
import { dataCommand } from './data.ts';
import { demoCommand } from './demo.ts';
import { evalCommand } from './eval.ts';
import { generateCommand } from './generate.ts';
import { infoCommand } from './info.ts';
import { schedulersCommand } from './schedulers.ts';
import { serveCommand } from './serve.ts';
import { trainCommand } from './train.ts';
import { upscaleCommand } from './upscale.ts';
import { workerCommand } from './worker.ts';

/** Every `gesso` subcommand, in the order `gesso --help` lists them. Add one line per command. */
export const commands: Command[] = [
  demoCommand,
  dataCommand,
  generateCommand,
  evalCommand,
  infoCommand,
  schedulersCommand,
  trainCommand,
  upscaleCommand,
  serveCommand,
  workerCommand,
];
