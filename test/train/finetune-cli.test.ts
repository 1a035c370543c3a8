// `gesso train finetune` argument errors, before any model loads: an unknown method, textual inversion
// without --token or with a word prompts cannot write.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFinetune } from '../../src/cli/commands/train-finetune.ts';
import { trainTextualInversion } from '../../src/train/finetune/train-textual-inversion.ts';

test('train finetune names a bad method, a missing --token and an unusable word', async () => {
  const base = ['--model', 'models/gesso-clipart-v1', '--data', 'nowhere'];
  await assert.rejects(runFinetune([...base, '--method', 'dreambooth']), /--method dreambooth: expected one of lora, textual-inversion, full/);
  await assert.rejects(runFinetune([...base, '--method', 'textual-inversion']), /--token WORD is required/);
  await assert.rejects(
    trainTextualInversion({ modelDir: 'models/gesso-clipart-v1', dataDir: 'nowhere', outDir: 'nowhere', token: 'two words' }),
    /--token: "two words" cannot be an embedding's word/,
  );
  await assert.rejects(
    trainTextualInversion({ modelDir: 'models/gesso-clipart-v1', dataDir: 'nowhere', outDir: 'nowhere', token: 'ok', vectors: 0 }),
    /--vectors 0: expected a whole number from 1 to 75/,
  );
});
