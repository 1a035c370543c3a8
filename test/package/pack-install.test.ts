// gesso as a user installs it: `npm pack`, the tarball installed into a new project, then used from
// plain JavaScript, from TypeScript (types resolve, tsc passes) and through the installed `gesso` binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('the packed tarball installs and works from JavaScript, TypeScript and its binary', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-pack-'));
  try {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], REPO)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const info = packed[0]!;
    const paths = new Set(info.files.map((f) => f.path));
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'bin/gesso.js', 'LICENSE', 'models/gesso-default-v2/unet/model.onnx']) {
      assert.ok(paths.has(needed), `the package holds ${needed}`);
    }
    assert.ok(![...paths].some((p) => p.startsWith('src/') || p.startsWith('test/')), 'sources and tests stay out of the package');

    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // A project that installs onnxruntime-node offline turns its CUDA download off, as gesso's own .npmrc does.
    writeFileSync(join(app, '.npmrc'), 'onnxruntime-node-install=skip\n');
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename)], app);

    // Plain JavaScript: the API makes an image with the shipped model.
    writeFileSync(
      join(app, 'make.mjs'),
      `import { loadModel, generate, encodePng } from 'gesso';
import { writeFileSync } from 'node:fs';
const model = await loadModel();
try {
  const { images } = await generate(model, { prompt: 'a red star', seed: 7, steps: 4 });
  const [image] = images;
  writeFileSync('api.png', await encodePng(image.pixels, image.width, image.height, 3, image.metadata));
  console.log(image.width + 'x' + image.height);
} finally {
  await model.release();
}
`,
    );
    assert.match(run(process.execPath, ['make.mjs'], app), /^\d+x\d+$/m);
    assert.ok(readFileSync(join(app, 'api.png')).subarray(0, 8).equals(PNG));

    // The README's library example, as written there.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const example = readme.split('## gesso as a library')[1]?.match(/```js\n([\s\S]*?)```/)?.[1];
    assert.ok(example, 'README.md has a ```js example under "gesso as a library"');
    writeFileSync(join(app, 'readme-example.mjs'), example);
    assert.match(run(process.execPath, ['readme-example.mjs'], app), /Steps: 20, Sampler: DPM\+\+ 2M, Schedule type: Karras[\s\S]*trainedAlgorithmicMedia/);
    assert.ok(readFileSync(join(app, 'star.png')).subarray(0, 8).equals(PNG));

    // TypeScript: the declarations resolve and a typed use of the API compiles.
    writeFileSync(
      join(app, 'typed.ts'),
      `import { generate, listSchedulers, type GenerateRequest, type DiffusionModel, InputError } from 'gesso';
const request: GenerateRequest = { prompt: 'a blue circle', steps: 10, scheduler: 'Euler a' };
export async function make(model: DiffusionModel): Promise<number> {
  const result = await generate(model, request);
  return result.images.length + listSchedulers().length;
}
export const bad: Error = new InputError('x');
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        // gesso is a Node library: its declarations use Node's types (Buffer), as a Node project has them.
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(REPO, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['typed.ts'],
      }),
    );
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);

    // The installed binary.
    run(join(app, 'node_modules/.bin/gesso'), ['generate', 'a red star', '--steps', '4', '--seed', '3', '--out', 'cli.png'], app);
    assert.ok(readFileSync(join(app, 'cli.png')).subarray(0, 8).equals(PNG));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
