import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { loadTokenizer } from '../../src/text/load-tokenizer.ts';
import { buildWordVocab, saveWordTokenizer, splitWords, WordTokenizer, wordTokenizerFromJson } from '../../src/text/word-tokenizer.ts';

const captions = ['A red apple.', 'a green apple', 'Red, red wine!', 'the apple tree', 'a café in 2024'];

test('words are runs of letters/digits, lower-cased', () => {
  assert.deepEqual(splitWords("Hello, World! it's 8k-art café", true), ['hello', 'world', 'it', 's', '8k', 'art', 'café']);
  assert.deepEqual(splitWords('Hello World', false), ['Hello', 'World']);
});

test('buildWordVocab: specials first, then by count, ties alphabetical; minCount and maxSize', () => {
  // counts: a 3, apple 3, red 3, 2024 1, café 1, green 1, in 1, the 1, tree 1, wine 1
  assert.deepEqual(buildWordVocab(captions), ['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'apple', 'red', '2024', 'café', 'green', 'in', 'the', 'tree', 'wine']);
  assert.deepEqual(buildWordVocab(captions, { minCount: 2 }), ['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'apple', 'red']);
  assert.deepEqual(buildWordVocab(captions, { maxSize: 6 }), ['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'apple']);
  assert.deepEqual(buildWordVocab([]), ['<pad>', '<bos>', '<eos>', '<unk>']);
  assert.throws(() => buildWordVocab(captions, { maxSize: 2 }), InputError);
  assert.throws(() => buildWordVocab(captions, { minCount: 0 }), InputError);
});

test('tokenize/encode/decode round-trip; unknown words become <unk>', () => {
  const tok = new WordTokenizer(buildWordVocab(captions), { maxLength: 8 });
  assert.deepEqual(tok.tokenize('A RED apple'), [4, 6, 5]);
  assert.equal(tok.decode(tok.encode('A RED apple').ids), 'a red apple');
  assert.deepEqual(tok.tokenize('a blue apple'), [4, 3, 5]);
  assert.equal(tok.decode(tok.tokenize('a blue apple')), 'a <unk> apple');
  const { ids, truncated } = tok.encode('a red apple');
  assert.equal(truncated, false);
  assert.deepEqual(Array.from(ids), [1, 4, 6, 5, 2, 0, 0, 0]);
  const long = tok.encode('a a a a a a a a a');
  assert.equal(long.truncated, true);
  assert.deepEqual(Array.from(long.ids), [1, 4, 4, 4, 4, 4, 4, 2]);
  assert.equal(tok.vocabSize, 14);
  assert.equal(tok.commaId, undefined);
});

test('save then loadTokenizer gives the same tokenizer; no temp file is left', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gesso-word-'));
  try {
    const tok = new WordTokenizer(buildWordVocab(captions), { maxLength: 12, lowercase: true });
    await saveWordTokenizer(tok, join(dir, 'tokenizer', 'gesso_tokenizer.json'));
    assert.deepEqual(await readdir(join(dir, 'tokenizer')), ['gesso_tokenizer.json']);
    const json = JSON.parse(await readFile(join(dir, 'tokenizer', 'gesso_tokenizer.json'), 'utf8'));
    assert.equal(json.type, 'gesso-word');
    assert.equal(json.version, 1);
    assert.equal(json.max_length, 12);
    assert.equal(json.lowercase, true);
    const loaded = await loadTokenizer(dir); // model folder: finds tokenizer/
    assert.ok(loaded instanceof WordTokenizer);
    assert.equal(loaded.maxLength, 12);
    for (const text of captions) assert.deepEqual(loaded.encode(text), tok.encode(text));
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('case-sensitive tokenizer keeps case', () => {
  const tok = wordTokenizerFromJson(
    { type: 'gesso-word', version: 1, max_length: 6, lowercase: false, vocab: ['<pad>', '<bos>', '<eos>', '<unk>', 'Red'] },
    'x.json',
  );
  assert.deepEqual(tok.tokenize('Red red'), [4, 3]);
});

test('malformed gesso_tokenizer.json is refused naming the file and the field', async () => {
  const good = { type: 'gesso-word', version: 1, max_length: 8, lowercase: true, vocab: ['<pad>', '<bos>', '<eos>', '<unk>', 'a'] };
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, type: 'bpe' }, /type must be "gesso-word"/],
    [{ ...good, version: 2 }, /version 2 is not supported/],
    [{ ...good, max_length: 2 }, /max_length must be an integer >= 3, got 2/],
    [{ ...good, lowercase: 'yes' }, /lowercase must be true or false/],
    [{ ...good, vocab: 'a b' }, /vocab must be an array/],
    [{ ...good, vocab: ['<bos>', '<pad>', '<eos>', '<unk>'] }, /vocab\[0\] must be "<pad>"/],
    [{ ...good, vocab: ['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'a'] }, /"a" twice/],
    [{ ...good, vocab: ['<pad>', '<bos>', '<eos>', '<unk>', 7] }, /vocab\[4\] must be a non-empty string/],
  ];
  const dir = await mkdtemp(join(tmpdir(), 'gesso-word-bad-'));
  try {
    for (const [content, pattern] of cases) {
      await writeFile(join(dir, 'gesso_tokenizer.json'), JSON.stringify(content));
      await assert.rejects(loadTokenizer(dir), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.match(e.message, /gesso_tokenizer\.json/);
        assert.match(e.message, pattern);
        return true;
      });
    }
    await writeFile(join(dir, 'gesso_tokenizer.json'), '{"type": ');
    await assert.rejects(loadTokenizer(dir), /gesso_tokenizer\.json is not valid JSON/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('articles outside the vocabulary are dropped, other unknown words become <unk>', () => {
  const tok = new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>', 'red', 'star'], { maxLength: 8 });
  assert.deepEqual(tok.tokenize('a red star'), [4, 5]);
  assert.deepEqual(tok.tokenize('The red zebra'), [4, 3]);
  const withArticle = new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'star'], { maxLength: 8 });
  assert.deepEqual(withArticle.tokenize('a star'), [4, 5]); // kept when the vocabulary has it
});
