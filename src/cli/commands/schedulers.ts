import { parseArgs } from 'node:util';
import { createScheduler, listSchedulers, loadSchedulerConfig, type SchedulerConfig } from '../../schedulers/index.ts';
import { numberFlag } from '../flags.ts';
import type { Command } from '../command.ts';

const usage = `Usage: gesso schedulers [NAME] [--steps N] [--strength S] [--config scheduler_config.json] [--json]

Without NAME, lists the diffusion schedulers: diffusers class name, the A1111 sampler names that select
it, and what it is for. Names are case-insensitive ("euler a", "DPM++ 2M Karras", "DDIMScheduler").

With NAME, prints the plan that scheduler makes: the model timesteps (and sigmas) for --steps steps
(default 20), using a model's scheduler_config.json when --config is given.

Options:
  --steps N        number of denoising steps (default 20)
  --strength S     img2img strength in (0, 1] (default 1)
  --config FILE    a diffusers scheduler_config.json to read settings from
  --json           print JSON instead of a table`;

export const schedulersCommand: Command = {
  usage,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        steps: { type: 'string' },
        strength: { type: 'string' },
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length === 0) {
      printList(values.json === true);
      return 0;
    }
    const name = positionals.join(' '); // "Euler a" may arrive as two words
    const steps = numberFlag('--steps', values.steps ?? '20');
    const strength = numberFlag('--strength', values.strength ?? '1');
    const config: Partial<SchedulerConfig> = values.config ? loadSchedulerConfig(values.config).config : {};
    const plan = createScheduler(name, config).plan(steps, strength);
    if (values.json) {
      console.log(
        JSON.stringify(
          { scheduler: plan.schedulerName, steps, strength, timesteps: plan.timesteps, sigmas: plan.sigmas, initNoiseSigma: plan.initNoiseSigma },
          null,
          2,
        ),
      );
      return 0;
    }
    console.log(
      `${plan.schedulerName}: ${plan.timesteps.length} model calls for ${steps} steps${strength < 1 ? ` at strength ${strength}` : ''}, initial noise sigma ${round(plan.initNoiseSigma)}`,
    );
    console.log(`timesteps: ${plan.timesteps.map(round).join(', ')}`);
    if (plan.sigmas) console.log(`sigmas:    ${plan.sigmas.map(round).join(', ')}`);
    return 0;
  },
};

function printList(json: boolean): void {
  const list = listSchedulers();
  if (json) {
    console.log(JSON.stringify(list, null, 2));
    return;
  }
  const rows = list.map((s) => [s.name, s.aliases.join(', ') || '-', s.description]);
  const header = ['SCHEDULER', 'A1111 NAMES', 'DESCRIPTION'];
  const widths = [0, 1].map((col) => Math.max(header[col]!.length, ...rows.map((r) => r[col]!.length)));
  for (const r of [header, ...rows]) console.log(`${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`);
}

function round(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(4);
}
