/**
 * Child part of `npm run bench:diffusion`: loads a UNet ONNX file (diffusers' I/O: sample, timestep,
 * encoder_hidden_states) in a gesso Session in this thread and times single UNet runs on seeded
 * random inputs. Prints one JSON line: session load time, the timed rounds and this process's peak RSS.
 *
 *   node --import tsx bench/diffusion_unet_run.ts --model PATH [--batch 2] [--latent 64]
 *        [--sequence 77] [--warmup 1] [--rounds 3] [--threads 2]
 *
 * One run at batch 2 is one denoising step with classifier-free guidance (uncond + cond together),
 * as the pipeline runs it (denoise.ts, cfgMode 'batched').
 */
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { Rng } from '../src/core/rng.ts';
import { timestepTensor } from '../src/pipelines/denoise.ts';
import { Session } from '../src/runtime/session.ts';
import type { ValueInfo } from '../src/runtime/runner.ts';
import type { HostTensor } from '../src/runtime/tensor.ts';
import { printPartResult } from './lib/part.ts';
import { timeRounds } from './lib/rounds.ts';

/** A mid-schedule timestep; a UNet's cost does not depend on it. */
const TIMESTEP = 500;

function intFlag(name: string, raw: string | undefined, fallback: number, min: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < min) throw new InputError(`--${name} ${raw}: expected an integer >= ${min}`);
  return v;
}

function input(session: Session, name: string): ValueInfo {
  const info = session.inputs.find((i) => i.name === name);
  if (info === undefined) throw new InputError(`${session.name} has no input "${name}"; inputs: ${session.inputs.map((i) => i.name).join(', ')}`);
  return info;
}

function normal(dims: number[], rng: Rng): HostTensor {
  return { dtype: 'float32', dims, data: rng.normal(dims.reduce((a, b) => a * b, 1)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      batch: { type: 'string' },
      latent: { type: 'string' },
      sequence: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (values.model === undefined) throw new InputError('--model PATH (a UNet model.onnx) is required');
  const batch = intFlag('batch', values.batch, 2, 1);
  const latent = intFlag('latent', values.latent, 64, 1);
  const sequence = intFlag('sequence', values.sequence, 77, 1);
  const rounds = { warmup: intFlag('warmup', values.warmup, 1, 0), rounds: intFlag('rounds', values.rounds, 3, 1) };
  const threads = intFlag('threads', values.threads, 2, 1);

  const t = performance.now();
  const session = await Session.create(values.model, { name: 'unet', intraOpThreads: threads });
  const loadMs = performance.now() - t;
  try {
    const channels = input(session, 'sample').shape[1];
    const hidden = input(session, 'encoder_hidden_states').shape[2];
    if (typeof channels !== 'number' || typeof hidden !== 'number')
      throw new InputError(`${session.name}: sample channels and hidden width must be fixed dims`);
    const timestep = input(session, 'timestep');
    const rng = new Rng(1);
    const feeds: Record<string, HostTensor> = {
      sample: normal([batch, channels, latent, latent], rng), // (B, C, h, w)
      timestep: timestepTensor(timestep.dtype, timestep.shape, batch, TIMESTEP), // (B,)
      encoder_hidden_states: normal([batch, sequence, hidden], rng), // (B, S, D)
    };
    // Every run's time, warm-ups included: on a shared machine a warm-up may be the one quiet run.
    const each: number[] = [];
    const ms = await timeRounds(async () => {
      const start = performance.now();
      await session.run(feeds);
      each.push(performance.now() - start);
      process.stderr.write(`unet run ${each.length}/${rounds.warmup + rounds.rounds}: ${((each.at(-1) as number) / 1000).toFixed(1)} s\n`);
    }, rounds);
    printPartResult({
      part: 'unet-run',
      batch,
      latent,
      sequence,
      threads,
      load_ms: loadMs,
      warmup: rounds.warmup,
      warmup_ms: each.slice(0, rounds.warmup),
      ms,
    });
  } finally {
    await session.release();
  }
}

await main();
