/**
 * tfjs peer of `npm run bench:engine`, run as a child process. Inference on the `wasm` backend,
 * training (forward + MSE + backward + Adam) on the `cpu` backend because tfjs-backend-wasm 4.22
 * registers no Conv2DBackpropFilter kernel (DESIGN.md §1). Prints ONE JSON line
 * (bench/lib/results.ts). The cpu backend is very slow (many minutes per conv-net step), so training
 * runs one round, in a child process stopped after --train-budget-s (default 300 s); --quick skips it.
 *
 *   node --import tsx bench/peers/tfjs_engine.ts [--quick] [--no-train] [--warmup N] [--rounds N]
 *                                               [--train-warmup N] [--train-rounds N] [--train-budget-s S]
 *                                               [--only convnet,transformer]
 */
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../../src/core/rng.ts';
import { InputError } from '../../src/core/errors.ts';
import { ADAM, WORKLOADS, type WorkloadName } from '../lib/workloads.ts';
import { timeRounds } from '../lib/rounds.ts';
import { lastJsonLine, runChild } from '../lib/child.ts';
import { parseStepResult, type PeerReport, type StepResult, type WorkloadResult } from '../lib/results.ts';
import { forward, initParams, tfjsInputShape, type Params } from './tfjs_models.ts';

// tfjs-core's Node bundle has no gradient registrations (the @tensorflow/tfjs umbrella package
// adds them); load tfjs-core's own ones from its ESM build, which needs a resolve hook in Node.
register('./tfjs-esm-resolve.mjs', import.meta.url);
await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
// Production mode skips tfjs's debug checks, as a user timing tfjs would.
tf.enableProdMode();

/** Wall-clock seconds one workload's cpu-backend training may take before it is stopped. */
const DEFAULT_TRAIN_BUDGET_S = 300;

function intFlag(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InputError(`--${name} ${value} is not an integer >= ${min}`);
  return n;
}

function log(message: string): void {
  process.stderr.write(`tfjs: ${message}\n`);
}

function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(new Rng(seed).normal(shape.reduce((a, b) => a * b, 1)), shape);
}

async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
}

async function timeForward(name: WorkloadName, warmup: number, rounds: number): Promise<StepResult> {
  await useBackend('wasm');
  const tensors = new Map([...initParams(name, 0)].map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
  const p: Params = (key) => tensors.get(key) ?? missing(key);
  const x = seededTensor(tfjsInputShape(name), 1);
  try {
    const ms = await timeRounds(
      async () => {
        const y = tf.tidy(() => forward(name, p, x));
        await y.data(); // wasm computes synchronously; reading back keeps every backend honest
        y.dispose();
      },
      { warmup, rounds },
    );
    return { ms, backend: 'wasm' };
  } finally {
    x.dispose();
    for (const t of tensors.values()) t.dispose();
  }
}

async function timeTrain(name: WorkloadName, warmup: number, rounds: number): Promise<StepResult> {
  await useBackend('cpu');
  const vars = new Map([...initParams(name, 0)].map(([k, v]) => [k, tf.variable(tf.tensor(v.values, v.shape), true, k)]));
  const p: Params = (key) => vars.get(key) ?? missing(key);
  const x = seededTensor(tfjsInputShape(name), 1);
  const y = seededTensor(tfjsInputShape(name), 2);
  const optimizer = tf.train.adam(ADAM.lr, ADAM.beta1, ADAM.beta2, ADAM.eps);
  const step = async (): Promise<void> => {
    const loss = optimizer.minimize(() => tf.mean(tf.squaredDifference(forward(name, p, x), y)) as tf.Scalar, true, [...vars.values()]);
    if (loss === null) throw new Error('tfjs optimizer returned no loss');
    await loss.data();
    loss.dispose();
  };
  try {
    return { ms: await timeRounds(step, { warmup, rounds }), backend: 'cpu' };
  } finally {
    optimizer.dispose();
    x.dispose();
    y.dispose();
    for (const v of vars.values()) v.dispose();
  }
}

function missing(key: string): never {
  throw new Error(`tfjs peer: no parameter named "${key}"`);
}

/** One cpu-backend training measurement in a child process, so a step past the budget can be stopped. */
async function timeTrainInChild(name: WorkloadName, warmup: number, rounds: number, budgetS: number): Promise<StepResult> {
  const source = `tfjs ${name} training`;
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--train-one', name, '--train-warmup', String(warmup), '--train-rounds', String(rounds)];
  const result = await runChild(process.execPath, args, { timeoutMs: budgetS * 1000 });
  if (result.timedOut) return { skipped: `over the ${budgetS} s budget (one cpu-backend step takes longer; stopped)` };
  if (result.code !== 0) throw new Error(`${source} exited with ${result.code ?? result.signal}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return parseStepResult(lastJsonLine(result.stdout, source), source);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-train': { type: 'boolean', default: false },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'train-warmup': { type: 'string' },
      'train-rounds': { type: 'string' },
      'train-budget-s': { type: 'string' },
      only: { type: 'string' },
      'train-one': { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const warmup = intFlag(values.warmup, 'warmup', quick ? 1 : 2, 0);
  const rounds = intFlag(values.rounds, 'rounds', quick ? 2 : 5, 1);
  // A cpu-backend conv-net step takes many minutes: by default one timed step, no warm-up (pure JS
  // has no first-call setup worth excluding at that scale), and a wall-clock budget per workload.
  const trainWarmup = intFlag(values['train-warmup'], 'train-warmup', 0, 0);
  const trainRounds = intFlag(values['train-rounds'], 'train-rounds', 1, 1);
  const trainBudgetS = intFlag(values['train-budget-s'], 'train-budget-s', DEFAULT_TRAIN_BUDGET_S, 1);
  const train = !quick && values['no-train'] !== true;
  const only = values.only?.split(',') ?? [...WORKLOADS];
  for (const name of [...only, ...(values['train-one'] === undefined ? [] : [values['train-one']])]) {
    if (!(WORKLOADS as readonly string[]).includes(name)) throw new InputError(`unknown workload "${name}"; expected ${WORKLOADS.join(' or ')}`);
  }

  // Child mode: one training measurement, printed as a step result.
  const trainOne = values['train-one'] as WorkloadName | undefined;
  if (trainOne !== undefined) {
    process.stdout.write(`${JSON.stringify(await timeTrain(trainOne, trainWarmup, trainRounds))}\n`);
    return;
  }

  const notes: string[] = [];
  await useBackend('wasm');
  const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  notes.push(
    `wasm backend: ${getThreadsCount()} thread(s), SIMD (tfjs reports WASM_HAS_MULTITHREAD_SUPPORT=${String(multithread)} in Node ${process.versions.node})`,
  );
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    notes.push('wasm backend has no Conv2DBackpropFilter kernel, so training runs on the cpu backend');
  }
  if (train) notes.push(`cpu-backend training: ${trainWarmup} warm-up + ${trainRounds} round(s), stopped after ${trainBudgetS} s per workload`);
  else notes.push(quick ? 'cpu-backend training skipped in --quick (a conv-net step takes many minutes)' : 'training skipped (--no-train)');

  const workloads: Partial<Record<WorkloadName, WorkloadResult>> = {};
  for (const name of WORKLOADS.filter((w) => only.includes(w))) {
    log(`${name} forward on wasm, ${warmup}+${rounds} rounds`);
    const fwd = await timeForward(name, warmup, rounds);
    let trainResult: StepResult = { skipped: quick ? 'skipped in --quick' : 'skipped (--no-train)' };
    if (train) {
      log(`${name} training step on cpu, ${trainWarmup}+${trainRounds} rounds, budget ${trainBudgetS} s`);
      trainResult = await timeTrainInChild(name, trainWarmup, trainRounds, trainBudgetS);
    }
    const params = [...initParams(name, 0).values()].reduce((n, v) => n + v.values.length, 0);
    workloads[name] = { forward: fwd, train: trainResult, params };
  }
  const report: PeerReport = {
    peer: 'tfjs',
    versions: { 'tfjs-core': tf.version_core, 'tfjs-backend-wasm': version_wasm, 'tfjs-backend-cpu': version_cpu },
    threads: getThreadsCount(),
    notes,
    workloads,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
