import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import { writeTinySdModel, type TinySdVariant } from '../../src/models/fixtures/tiny-sd.ts';
import { Session } from '../../src/runtime/session.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';
import { loadTokenizer } from '../../src/text/load-tokenizer.ts';
import { maxAbs } from './helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'gesso-tiny-sd-'));
after(() => rmSync(root, { recursive: true, force: true }));

const json = (dir: string, file: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;

async function run(
  path: string,
  feeds: Record<string, HostTensor>,
): Promise<{ session: { inputs: readonly { name: string; dtype: string; shape: (number | string)[] }[] }; out: Record<string, HostTensor> }> {
  const session = await Session.create(path);
  try {
    return { session: { inputs: [...session.inputs] }, out: await session.run(feeds) };
  } finally {
    await session.release();
  }
}

const EXPECT: Record<
  TinySdVariant,
  {
    pipeline: string;
    scheduler: string;
    prediction: string | undefined;
    timestep: 'int64' | 'float32';
    ids: 'int32' | 'int64';
    pad: number;
    inChannels: number;
  }
> = {
  sd1: {
    pipeline: 'OnnxStableDiffusionPipeline',
    scheduler: 'PNDMScheduler',
    prediction: undefined,
    timestep: 'int64',
    ids: 'int32',
    pad: 49407,
    inChannels: 4,
  },
  'sd2-v': {
    pipeline: 'OnnxStableDiffusionPipeline',
    scheduler: 'DDIMScheduler',
    prediction: 'v_prediction',
    timestep: 'float32',
    ids: 'int64',
    pad: 0,
    inChannels: 4,
  },
  inpaint: {
    pipeline: 'OnnxStableDiffusionInpaintPipeline',
    scheduler: 'PNDMScheduler',
    prediction: undefined,
    timestep: 'int64',
    ids: 'int32',
    pad: 49407,
    inChannels: 9,
  },
};

for (const variant of ['sd1', 'sd2-v', 'inpaint'] as const) {
  test(`tiny ${variant}: diffusers ONNX layout whose components run with SD's names and dtypes at 512x512`, async () => {
    const dir = join(root, variant);
    const info = writeTinySdModel(dir, { variant, seed: 11 });
    const want = EXPECT[variant];
    assert.equal(info.dir, dir);
    assert.deepEqual(readdirSync(dir).sort(), [
      'README.md',
      'model_index.json',
      'scheduler',
      'text_encoder',
      'tokenizer',
      'unet',
      'vae_decoder',
      'vae_encoder',
    ]);
    assert.ok(existsSync(join(dir, 'unet/model.onnx_data')), 'UNet weights are external data');
    const index = json(dir, 'model_index.json');
    assert.equal(index._class_name, want.pipeline);
    assert.deepEqual(index.unet, ['diffusers', 'OnnxRuntimeModel']);
    assert.deepEqual(index.tokenizer, ['transformers', 'CLIPTokenizer']);
    assert.deepEqual(index.scheduler, ['diffusers', want.scheduler]);
    const scheduler = json(dir, 'scheduler/scheduler_config.json');
    assert.equal(scheduler._class_name, want.scheduler);
    assert.equal(scheduler.beta_schedule, 'scaled_linear');
    assert.equal(scheduler.prediction_type, want.prediction);
    assert.equal(json(dir, 'unet/config.json').in_channels, want.inChannels);
    assert.equal(json(dir, 'unet/config.json').cross_attention_dim, 32);
    assert.equal(json(dir, 'vae_decoder/config.json').scaling_factor, 0.18215);
    assert.deepEqual(json(dir, 'vae_encoder/config.json').block_out_channels, [8, 16, 32, 32]);
    assert.equal(json(dir, 'text_encoder/config.json').hidden_size, 32);

    const tokenizer = await loadTokenizer(join(dir, 'tokenizer'));
    assert.equal(tokenizer.padId, want.pad);
    const ids = [...tokenizer.encode('a red apple').ids];
    assert.deepEqual(ids.slice(0, 5), [49406, 320, 736, 3055, 49407]);

    // Text: a prompt and the empty prompt, as classifier-free guidance feeds them.
    const both = [...ids, ...tokenizer.encode('').ids];
    const idsFeed: HostTensor =
      want.ids === 'int32'
        ? { dtype: 'int32', dims: [2, 77], data: Int32Array.from(both) }
        : { dtype: 'int64', dims: [2, 77], data: BigInt64Array.from(both, (v) => BigInt(v)) };
    const text = await run(join(dir, 'text_encoder/model.onnx'), { input_ids: idsFeed });
    assert.deepEqual(
      text.session.inputs.map((i) => [i.name, i.dtype]),
      [['input_ids', want.ids]],
    );
    const hidden = text.out.last_hidden_state as HostTensor;
    assert.deepEqual(hidden.dims, [2, 77, 32]);
    assert.deepEqual(text.out.pooler_output?.dims, [2, 32]);

    // UNet: one denoising step for a 512x512 image (64x64 latents), batch 2.
    const rng = new Rng(5);
    const n = 2 * want.inChannels * 64 * 64;
    const t: HostTensor =
      want.timestep === 'int64'
        ? { dtype: 'int64', dims: [2], data: BigInt64Array.of(981n, 981n) }
        : { dtype: 'float32', dims: [2], data: Float32Array.of(981, 981) };
    const unet = await run(join(dir, 'unet/model.onnx'), {
      sample: { dtype: 'float32', dims: [2, want.inChannels, 64, 64], data: rng.normal(n) },
      timestep: t,
      encoder_hidden_states: hidden,
    });
    assert.deepEqual(
      unet.session.inputs.map((i) => [i.name, i.dtype, i.shape]),
      [
        ['sample', 'float32', ['batch', want.inChannels, 'height', 'width']],
        ['timestep', want.timestep, ['batch']],
        ['encoder_hidden_states', 'float32', ['batch', 'sequence', 32]],
      ],
    );
    const noise = unet.out.out_sample as HostTensor;
    assert.deepEqual(noise.dims, [2, 4, 64, 64]);
    assert.ok(Number.isFinite(maxAbs(noise.data as Float32Array)) && maxAbs(noise.data as Float32Array) > 0);

    // VAE: decode 64x64 latents to 512x512 pixels; encode a 64x64 image to mean and log-variance.
    const decoded = await run(join(dir, 'vae_decoder/model.onnx'), {
      latent_sample: { dtype: 'float32', dims: [1, 4, 64, 64], data: rng.normal(4 * 64 * 64) },
    });
    assert.deepEqual(decoded.out.sample?.dims, [1, 3, 512, 512]);
    const encoded = await run(join(dir, 'vae_encoder/model.onnx'), { sample: { dtype: 'float32', dims: [1, 3, 64, 64], data: rng.normal(3 * 64 * 64) } });
    assert.deepEqual(encoded.out.latent_sample?.dims, [1, 8, 8, 8]);
  });
}

test('tiny models are reproducible from the seed, and refuse to overwrite unless asked', () => {
  const hash = (dir: string): string =>
    createHash('sha256')
      .update(readFileSync(join(dir, 'unet/model.onnx_data')))
      .update(readFileSync(join(dir, 'text_encoder/model.onnx')))
      .digest('hex');
  writeTinySdModel(join(root, 'a'), { variant: 'sd1', seed: 3 });
  writeTinySdModel(join(root, 'b'), { variant: 'sd1', seed: 3 });
  writeTinySdModel(join(root, 'c'), { variant: 'sd1', seed: 4 });
  assert.equal(hash(join(root, 'a')), hash(join(root, 'b')));
  assert.notEqual(hash(join(root, 'a')), hash(join(root, 'c')));
  assert.throws(() => writeTinySdModel(join(root, 'a'), { variant: 'sd1', seed: 4 }), /already exists/);
  writeTinySdModel(join(root, 'a'), { variant: 'sd1', seed: 4, overwrite: true });
  assert.equal(hash(join(root, 'a')), hash(join(root, 'c')));
  assert.deepEqual(
    readdirSync(root).filter((f) => f.startsWith('.')),
    [],
    'no temporary folders left',
  );
});
