import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { ClipTokenizer, loadClipTokenizer } from '../../src/text/clip-tokenizer.ts';
import { loadTokenizer } from '../../src/text/load-tokenizer.ts';

const BPE_DIR = new URL('../../assets/clip-bpe/', import.meta.url).pathname;
const tok = await loadClipTokenizer(BPE_DIR);
const vocab: Record<string, number> = JSON.parse(await readFile(join(BPE_DIR, 'vocab.json'), 'utf8'));
const idToToken = new Map(Object.entries(vocab).map(([t, id]) => [id, t]));
const mergeLines = new Set((await readFile(join(BPE_DIR, 'merges.txt'), 'utf8')).split('\n').slice(1));
const pieces = (text: string): string[] => tok.tokenize(text).map((id) => idToToken.get(id) ?? '?');

/** A tokenizer folder in a temp dir holding the real vocabulary plus `extra` files. */
async function tempTokenizerDir(extra: Record<string, string> = {}, copy: string[] = ['vocab.json', 'merges.txt']): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gesso-tok-'));
  for (const f of copy) await copyFile(join(BPE_DIR, f), join(dir, f));
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text);
  return dir;
}

test('known ids: "a red apple" and its SD 1.x encoding', () => {
  assert.deepEqual(tok.tokenize('a red apple'), [320, 736, 3055]);
  const { ids, truncated } = tok.encode('a red apple');
  assert.equal(truncated, false);
  assert.equal(ids.length, 77);
  assert.deepEqual(Array.from(ids), [49406, 320, 736, 3055, 49407, ...new Array(72).fill(49407)]);
  assert.equal(tok.bosId, 49406);
  assert.equal(tok.eosId, 49407);
  assert.equal(tok.padId, 49407);
  assert.equal(tok.vocabSize, 49408);
  assert.equal(tok.maxLength, 77);
});

test('cleanup: lower-case, whitespace folded, trimmed', () => {
  assert.deepEqual(tok.tokenize('  A\n RED\t\tApple  '), [320, 736, 3055]);
  assert.deepEqual(tok.tokenize(''), []);
  assert.deepEqual(tok.tokenize(' \n\t '), []);
});

test('a long word splits into several BPE pieces, and BPE stops only when no adjacent pair is a merge', () => {
  const word = pieces('supercalifragilisticexpialidocious');
  assert.deepEqual(word, ['super', 'cali', 'frag', 'ili', 'stic', 'expi', 'ali', 'do', 'cious</w>']);
  assert.equal(word.join(''), 'supercalifragilisticexpialidocious</w>');
  for (let i = 0; i + 1 < word.length; i++) assert.ok(!mergeLines.has(`${word[i]} ${word[i + 1]}`), `${word[i]} ${word[i + 1]} is a merge`);
  // Run of one letter: merges build 'aaaaaaaa' pieces from the left, remainder ends the word.
  assert.deepEqual(pieces('a'.repeat(35)), ['aaaaaaaa', 'aaaaaaaa', 'aaaaaaaa', 'aaaaaaaa', 'aaa</w>']);
});

test('numbers are split digit by digit; punctuation is its own piece', () => {
  assert.deepEqual(tok.tokenize('12345'), [272, 273, 274, 275, 276]);
  assert.deepEqual(pieces('12345'), ['1</w>', '2</w>', '3</w>', '4</w>', '5</w>']);
  assert.deepEqual(pieces('3.14'), ['3</w>', '.</w>', '1</w>', '4</w>']);
  assert.deepEqual(tok.tokenize('hello, world!'), [3306, 267, 1002, 256]);
  assert.deepEqual(pieces('hello, world!'), ['hello</w>', ',</w>', 'world</w>', '!</w>']);
  assert.deepEqual(pieces('masterpiece, 8k, ultra-detailed'), ['masterpiece</w>', ',</w>', '8</w>', 'k</w>', ',</w>', 'ultra</w>', '-</w>', 'detailed</w>']);
  assert.equal(tok.commaId, 267);
});

test('contractions are split off as CLIP does', () => {
  assert.deepEqual(pieces("don't stop"), ['don</w>', "'t</w>", 'stop</w>']);
  assert.deepEqual(pieces("It's I'M they'll"), ['it</w>', "'s</w>", 'i</w>', "'m</w>", 'they</w>', "'ll</w>"]);
});

test('unicode goes through UTF-8 bytes mapped to printable characters', () => {
  // é is UTF-8 C3 A9, which bytes_to_unicode maps to "Ã©"; merges "Ã ©</w>" then "caf Ã©</w>" give one token.
  assert.ok(mergeLines.has('Ã ©</w>'));
  assert.ok(mergeLines.has('caf Ã©</w>'));
  assert.deepEqual(pieces('café'), ['cafÃ©</w>']);
  assert.deepEqual(tok.tokenize('café'), [15304]);
  // Decomposed e + combining acute is NFC-normalized first.
  assert.deepEqual(tok.tokenize('cafe\u0301'), [15304]);
  assert.deepEqual(pieces('naïve résumé'), ['na', 'Ã¯', 've</w>', 'rÃ©', 'sum', 'Ã©</w>']);
  // 🍎 is F0 9F 8D 8E: four byte-symbols, merged into two pieces.
  assert.deepEqual(pieces('🍎🍏'), ['ðŁį', 'İ', 'ðŁį', 'ı</w>']);
  assert.equal(tok.decode(tok.tokenize('café naïve 🍎')), 'café naïve 🍎');
});

test('special token text maps to the special id', () => {
  assert.deepEqual(tok.tokenize('a <|endoftext|> b'), [320, 49407, 321]);
});

test('decode inverts tokenize for lower-case text and skips bos/eos/padding', () => {
  assert.equal(tok.decode(tok.encode('A red apple, 8k!').ids), 'a red apple , 8 k !');
  assert.equal(tok.decode(tok.tokenize('supercalifragilisticexpialidocious')), 'supercalifragilisticexpialidocious');
});

test('padding and truncation lengths (eos kept when cutting)', () => {
  const exact = tok.encode(new Array(75).fill('a').join(' '));
  assert.equal(exact.truncated, false);
  assert.equal(exact.ids.length, 77);
  assert.equal(exact.ids[75], 320);
  assert.equal(exact.ids[76], 49407);
  const long = tok.encode(new Array(100).fill('a').join(' '));
  assert.equal(long.truncated, true);
  assert.equal(long.ids.length, 77);
  assert.equal(long.ids[0], 49406);
  assert.equal(long.ids[75], 320);
  assert.equal(long.ids[76], 49407);
  const empty = tok.encode('');
  assert.deepEqual(Array.from(empty.ids.subarray(0, 3)), [49406, 49407, 49407]);
});

test('SD 2.x style config: pad token "!" (id 0) and model_max_length are read', async () => {
  const dir = await tempTokenizerDir({
    'special_tokens_map.json': JSON.stringify({ pad_token: '!', bos_token: { content: '<|startoftext|>' } }),
    'tokenizer_config.json': JSON.stringify({ model_max_length: 16, pad_token: '<|endoftext|>' }),
  });
  try {
    const sd2 = await loadTokenizer(dir);
    assert.ok(sd2 instanceof ClipTokenizer);
    assert.equal(sd2.padId, 0);
    assert.equal(sd2.maxLength, 16);
    assert.deepEqual(Array.from(sd2.encode('a red apple').ids), [49406, 320, 736, 3055, 49407, ...new Array(11).fill(0)]);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("transformers' huge 'unset' model_max_length falls back to 77; loadTokenizer finds tokenizer/ in a model folder", async () => {
  const model = await mkdtemp(join(tmpdir(), 'gesso-model-'));
  try {
    const dir = join(model, 'tokenizer');
    await mkdir(dir);
    for (const f of ['vocab.json', 'merges.txt']) await copyFile(join(BPE_DIR, f), join(dir, f));
    await writeFile(join(dir, 'tokenizer_config.json'), '{"model_max_length": 1000000000000000019884624838656}');
    const t = await loadTokenizer(model);
    assert.equal(t.maxLength, 77);
    assert.deepEqual(t.tokenize('a red apple'), [320, 736, 3055]);
  } finally {
    await rm(model, { recursive: true });
  }
});

async function rejectsNaming(dir: string, pattern: RegExp): Promise<void> {
  try {
    await assert.rejects(loadTokenizer(dir), (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      assert.match(e.message, pattern);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('bad tokenizer folders give errors naming the file', async () => {
  await rejectsNaming(await tempTokenizerDir({}, ['vocab.json']), /merges\.txt/);
  await rejectsNaming(await tempTokenizerDir({}, ['merges.txt']), /vocab\.json/);
  await rejectsNaming(await tempTokenizerDir({ 'vocab.json': '{"a": 1,' }, ['merges.txt']), /vocab\.json is not valid JSON/);
  await rejectsNaming(await tempTokenizerDir({ 'vocab.json': '["a", "b"]' }, ['merges.txt']), /vocab\.json must be a JSON object.*array/);
  await rejectsNaming(await tempTokenizerDir({ 'vocab.json': '{"a": 1.5}' }, ['merges.txt']), /vocab\.json: token "a" has id 1\.5/);
  await rejectsNaming(await tempTokenizerDir({ 'vocab.json': '{"a": 0, "b": 1}' }, ['merges.txt']), /vocab\.json.*no bos token "<\|startoftext\|>"/);
  await rejectsNaming(await tempTokenizerDir({ 'merges.txt': '#version: 0.2\ni n\nt h e\n' }, ['vocab.json']), /merges\.txt line 3: expected two symbols/);
  await rejectsNaming(await tempTokenizerDir({ 'merges.txt': '#version: 0.2\n' }, ['vocab.json']), /merges\.txt has no merges/);
  await rejectsNaming(await tempTokenizerDir({ 'tokenizer_config.json': '{nope' }), /tokenizer_config\.json is not valid JSON/);
  await rejectsNaming(
    await tempTokenizerDir({ 'special_tokens_map.json': '{"pad_token": "<pad>"}' }),
    /pad_token "<pad>".*special_tokens_map\.json.*not in .*vocab\.json/,
  );
  await rejectsNaming(await tempTokenizerDir({ 'special_tokens_map.json': '{"pad_token": 5}' }), /special_tokens_map\.json: pad_token must be a string/);
  await rejectsNaming(await tempTokenizerDir({}, []), /holds no tokenizer.*gesso_tokenizer\.json.*vocab\.json \+ merges\.txt/);
  await rejectsNaming(join(tmpdir(), 'gesso-no-such-dir-xyz'), /does not exist/);
});
