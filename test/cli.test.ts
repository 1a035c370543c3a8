import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const gesso = (...args: string[]) => spawnSync(process.execPath, ['bin/gesso.js', ...args], { encoding: 'utf8' });

test('gesso --help lists every command', () => {
  const r = gesso('--help');
  assert.equal(r.status, 0);
  for (const name of ['demo', 'data', 'generate', 'eval', 'info', 'schedulers', 'train', 'upscale']) assert.match(r.stdout, new RegExp(`\\n  ${name}\\s`));
});

test('an unknown command or flag is a clear error, exit code 2, no stack trace', () => {
  const unknown = gesso('paint');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "paint"; expected one of: demo/);
  for (const args of [
    ['train', 'default', '--bogus'],
    ['data', 'openclipart', '--nope'],
    ['schedulers', '--steps'],
  ]) {
    const r = gesso(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^gesso: .*(--bogus|--nope|--steps)/, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('`gesso train TARGET --help` and `gesso eval TARGET --help` print that target alone; without a target, all of them', () => {
  for (const [command, target, own, others] of [
    ['train', 'finetune', /^Usage: gesso train finetune /, /gesso train gan|gesso train default/],
    ['train', 'gan', /^Usage: gesso train gan /, /gesso train finetune|--from-model/],
    ['train', 'default', /^Usage: gesso train default /, /gesso train finetune|--d-lr/],
    ['eval', 'lora', /^Usage: gesso eval lora /, /gesso eval gan|--compare-grid/],
  ] as const) {
    const r = gesso(command, target, '--help');
    assert.equal(r.status, 0, `${command} ${target} --help`);
    assert.match(r.stdout, own);
    assert.doesNotMatch(r.stdout, others, `${command} ${target} --help shows only ${target}`);
  }
  const all = gesso('train', '--help').stdout;
  assert.equal(gesso('train', 'constructor', '--help').stdout, all, 'a name that is not a target gets the whole usage');
  for (const target of ['default', 'style', 'gan', 'finetune']) assert.match(all, new RegExp(`Usage: gesso train ${target} `));
  const evalAll = gesso('eval', '--help').stdout;
  for (const target of ['default', 'lora', 'gan']) assert.match(evalAll, new RegExp(`Usage: gesso eval ${target} `));
});
