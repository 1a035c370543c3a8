// `gesso schedulers`: the listing and a plan, through the command object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedulersCommand } from '../../src/cli/commands/schedulers.ts';
import { commands } from '../../src/cli/commands/index.ts';
import { InputError } from '../../src/core/errors.ts';

async function capture(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => void lines.push(parts.join(' '));
  try {
    const code = await schedulersCommand.run(args);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = original;
  }
}

test('gesso schedulers is registered and lists every class with its A1111 names', async () => {
  assert.equal(await commands.find((c) => c.name === 'schedulers')?.load(), schedulersCommand);
  const { code, out } = await capture([]);
  assert.equal(code, 0);
  for (const name of ['DDPMScheduler', 'DDIMScheduler', 'PNDMScheduler', 'EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler', 'DPMSolverMultistepScheduler', 'LCMScheduler']) {
    assert.match(out, new RegExp(`^${name} `, 'm'));
  }
  assert.match(out, /DPMSolverMultistepScheduler\s+DPM\+\+ 2M, DPM\+\+ 2M Karras\s+\S/);
  const json = JSON.parse((await capture(['--json'])).out) as { name: string; aliases: string[] }[];
  assert.equal(json.length, 7);
});

test('gesso schedulers NAME prints the plan; a bad name or number is an InputError', async () => {
  const { out } = await capture(['euler', 'a', '--steps', '4']);
  assert.match(out, /EulerAncestralDiscreteScheduler: 4 model calls for 4 steps/);
  assert.match(out, /timesteps: 999, 666, 333, 0/);
  const plan = JSON.parse((await capture(['DDIM', '--steps', '20', '--strength', '0.5', '--json'])).out) as { timesteps: number[] };
  assert.deepEqual(plan.timesteps.slice(0, 2), [450, 400]);
  await assert.rejects(capture(['Heun']), InputError);
  await assert.rejects(capture(['DDIM', '--steps', 'many']), /--steps "many" is not a number/);
  await assert.rejects(capture(['DDIM', '--steps', '0']), /steps 0/);
});
