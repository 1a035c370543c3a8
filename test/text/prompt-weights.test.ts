import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../src/core/errors.ts';
import { loadClipTokenizer } from '../../src/text/clip-tokenizer.ts';
import { applyTokenWeights, parsePromptWeights, weightedTokens } from '../../src/text/prompt-weights.ts';
import { WordTokenizer } from '../../src/text/word-tokenizer.ts';
import type { Tokenizer } from '../../src/text/tokenizer.ts';

const BPE_DIR = new URL('../../assets/clip-bpe/', import.meta.url).pathname;
const clip = await loadClipTokenizer(BPE_DIR);
const BOS = 49406;
const EOS = 49407;
const RED = 736;
const APPLE = 3055;
const COMMA = 267;

type Row = [string, Array<[string, number]>];
const B = 'BREAK';
// Expected weights follow A1111's rules: "(" ×1.1, "[" ÷1.1, "(x:w)" ×w, nested multiply, open brackets close at the end.
const table: Row[] = [
  ['normal text', [['normal text', 1]]],
  [
    'an (important) word',
    [
      ['an ', 1],
      ['important', 1.1],
      [' word', 1],
    ],
  ],
  ['((word))', [['word', 1.1 * 1.1]]],
  ['(((a)))', [['a', 1.1 * 1.1 * 1.1]]],
  ['[word]', [['word', 1 / 1.1]]],
  ['[[word]]', [['word', 1 / 1.1 / 1.1]]],
  ['[(a)]', [['a', 1]]],
  ['(x:0.5)', [['x', 0.5]]],
  ['(x: 1.25 )', [['x', 1.25]]],
  ['(x:.5)', [['x', 0.5]]],
  ['(x:-1)', [['x', -1]]],
  [
    '(red:1.5) (apple)',
    [
      ['red', 1.5],
      [' ', 1],
      ['apple', 1.1],
    ],
  ],
  [
    '((a) b)',
    [
      ['a', 1.21],
      [' b', 1.1],
    ],
  ],
  [
    '(a [b] c)',
    [
      ['a ', 1.1],
      ['b', 1],
      [' c', 1.1],
    ],
  ],
  // A1111's documented example: nested weight inside an unclosed bracket, square brackets, trailing unclosed "(".
  [
    'a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).',
    [
      ['a ', 1],
      ['house', 1.3 * 1.1 * 1.1],
      [' ', 1.1],
      ['on', 1],
      [' a ', 1.1],
      ['hill', 0.55],
      [', sun, ', 1.1],
      ['sky', 1.4641],
      ['.', 1.1],
    ],
  ],
  ['(unnecessary)(parens)', [['unnecessaryparens', 1.1]]], // equal neighbours merge
  ['(unbalanced', [['unbalanced', 1.1]]],
  ['[unbalanced square', [['unbalanced square', 1 / 1.1]]],
  ['a) b] c', [['a) b] c', 1]]], // unmatched closers are text
  [
    'a (b:1.5]c)',
    [
      ['a ', 1],
      ['b:1.5]c', 1.1],
    ],
  ],
  ['time 10:30) ok', [['time 10:30) ok', 1]]], // ":30)" with no open "(" is text
  ['\\(literal\\]', [['(literal]', 1]]],
  ['a \\\\ b', [['a \\ b', 1]]],
  ['a\\b', [['ab', 1]]], // a lone backslash is dropped, as in A1111
  [
    'a BREAK b',
    [
      ['a', 1],
      [B, 1],
      ['b', 1],
    ],
  ],
  [
    'BREAK a',
    [
      ['', 1],
      [B, 1],
      ['a', 1],
    ],
  ],
  [
    'a BREAK',
    [
      ['a', 1],
      [B, 1],
      ['', 1],
    ],
  ],
  [
    '(a BREAK b:1.5)',
    [
      ['a', 1.5],
      [B, 1],
      ['b', 1.5],
    ],
  ],
  ['aBREAK BREAKb break', [['aBREAK BREAKb break', 1]]], // only the whole upper-case word
  ['', [['', 1]]],
];

test(`parse table (${table.length} cases)`, () => {
  for (const [prompt, expected] of table) {
    const got = parsePromptWeights(prompt);
    assert.deepEqual(
      got.map((f) => f.text),
      expected.map(([t]) => t),
      `texts of ${JSON.stringify(prompt)}`,
    );
    got.forEach((f, i) => {
      assert.ok(Math.abs(f.weight - expected[i][1]) < 1e-12, `${JSON.stringify(prompt)} fragment ${i}: weight ${f.weight}, expected ${expected[i][1]}`);
      assert.equal(f.isBreak === true, expected[i][0] === B && f.text === B, `${JSON.stringify(prompt)} fragment ${i} break flag`);
    });
  }
});

test('a weight that is not a number is an InputError naming it', () => {
  assert.throws(
    () => parsePromptWeights('(a:1.2.3)'),
    (e: unknown) => e instanceof InputError && /"1\.2\.3"/.test(e.message),
  );
  assert.throws(() => parsePromptWeights('(a:.)'), InputError);
});

test('weights land on the tokens of their fragment', () => {
  const { chunks, tokenCount, truncated } = weightedTokens(clip, 'a (red:1.5) [apple]');
  assert.equal(chunks.length, 1);
  assert.equal(tokenCount, 3);
  assert.equal(truncated, false);
  assert.deepEqual(Array.from(chunks[0].ids), [BOS, 320, RED, APPLE, EOS, ...new Array(72).fill(EOS)]);
  assert.deepEqual(Array.from(chunks[0].weights.subarray(0, 6)), [1, 1, 1.5, Math.fround(1 / 1.1), 1, 1]);
  assert.equal(chunks[0].weights.length, 77);
});

test('empty prompt gives one chunk of bos, eos, padding', () => {
  const { chunks, tokenCount } = weightedTokens(clip, '');
  assert.equal(chunks.length, 1);
  assert.equal(tokenCount, 0);
  assert.deepEqual(Array.from(chunks[0].ids), [BOS, ...new Array(76).fill(EOS)]);
});

test('a 200-token prompt is cut into 3 chunks of 75, 75, 50 tokens', () => {
  const prompt = new Array(200).fill('red').join(' ');
  const { chunks, tokenCount, truncated } = weightedTokens(clip, prompt);
  assert.equal(tokenCount, 200);
  assert.equal(truncated, false);
  assert.equal(chunks.length, 3);
  const content = chunks.map((c) => Array.from(c.ids).filter((id) => id === RED).length);
  assert.deepEqual(content, [75, 75, 50]);
  for (const c of chunks) {
    assert.equal(c.ids.length, 77);
    assert.equal(c.ids[0], BOS);
    assert.equal(c.ids[76], EOS);
  }
  assert.equal(chunks[2].ids[51], EOS);
  assert.equal(chunks[2].ids[50], RED);
});

test('comma backtracking moves the words after a nearby comma to the next chunk', () => {
  // 70 × red, a comma, then 10 × apple = 81 tokens; chunk 1 would end 4 apples after the comma.
  const prompt = `${new Array(70).fill('red').join(' ')}, ${new Array(10).fill('apple').join(' ')}`;
  const moved = weightedTokens(clip, prompt);
  assert.equal(moved.chunks.length, 2);
  assert.equal(moved.chunks[0].ids[71], COMMA);
  assert.equal(moved.chunks[0].ids[72], EOS);
  assert.deepEqual(Array.from(moved.chunks[1].ids.subarray(0, 12)), [BOS, ...new Array(10).fill(APPLE), EOS]);
  const plain = weightedTokens(clip, prompt, { commaBacktrack: 0 });
  assert.equal(plain.chunks[0].ids[75], APPLE);
  assert.equal(plain.chunks[1].ids[1], APPLE);
  assert.equal(plain.chunks[1].ids[7], EOS); // 6 apples left
});

test('BREAK starts a new chunk', () => {
  const two = weightedTokens(clip, 'a red BREAK apple');
  assert.equal(two.chunks.length, 2);
  assert.deepEqual(Array.from(two.chunks[0].ids.subarray(0, 4)), [BOS, 320, RED, EOS]);
  assert.deepEqual(Array.from(two.chunks[1].ids.subarray(0, 3)), [BOS, APPLE, EOS]);
  assert.equal(weightedTokens(clip, 'BREAK apple').chunks.length, 2); // empty first chunk
  assert.equal(weightedTokens(clip, 'apple BREAK').chunks.length, 1); // nothing after the break
  assert.equal(weightedTokens(clip, 'apple BREAK BREAK red').chunks.length, 3);
});

test('a 5,000-character prompt gives several chunks, capped by maxChunks with truncated', () => {
  const words = ['masterpiece', '(best quality:1.2)', 'ultra-detailed', '[blurry]', 'a red apple', 'café', '8k', '((sky))', 'BREAK'];
  let prompt = '';
  for (let i = 0; prompt.length < 5000; i++) prompt += words[(i * 7) % words.length] + ', ';
  prompt = prompt.slice(0, 5000);
  assert.equal(prompt.length, 5000);
  const capped = weightedTokens(clip, prompt);
  assert.equal(capped.truncated, true);
  assert.equal(capped.chunks.length, 8);
  for (const c of capped.chunks) {
    assert.equal(c.ids.length, 77);
    assert.equal(c.weights.length, 77);
    assert.equal(c.ids[0], BOS);
  }
  const all = weightedTokens(clip, prompt, { maxChunks: 1000 });
  assert.equal(all.truncated, false);
  assert.ok(all.chunks.length > 8, `${all.chunks.length} chunks`);
  // Every prompt token is in exactly one chunk, between bos and the first eos.
  const inChunks = all.chunks.reduce((n, c) => n + Array.from(c.ids).indexOf(EOS) - 1, 0);
  assert.equal(inChunks, all.tokenCount);
  // A long run of one letter is one piece: still fine.
  assert.ok(weightedTokens(clip, 'x'.repeat(5000)).chunks.length >= 8);
  assert.throws(() => weightedTokens(clip, 'a', { maxChunks: 0 }), InputError);
});

test('SD 2.x padding id and the word tokenizer chunk the same way', () => {
  const sd2: Tokenizer = Object.assign(Object.create(clip) as Tokenizer, { padId: 0 });
  const c = weightedTokens(sd2, 'a red apple').chunks[0];
  assert.deepEqual(Array.from(c.ids.subarray(0, 7)), [BOS, 320, RED, APPLE, EOS, 0, 0]);
  const word = new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>', 'red', 'apple'], { maxLength: 6 });
  const w = weightedTokens(word, '(red) apple red apple red');
  assert.equal(w.chunks.length, 2);
  assert.deepEqual(Array.from(w.chunks[0].ids), [1, 4, 5, 4, 5, 2]);
  assert.deepEqual(Array.from(w.chunks[1].ids), [1, 4, 2, 0, 0, 0]);
  assert.deepEqual(Array.from(w.chunks[0].weights), [1, Math.fround(1.1), 1, 1, 1, 1]);
});

test('applyTokenWeights: scale rows by weight, then restore the overall mean', () => {
  // (T=2, D=2): weighted [2, 4, 3, 4] sums to 13, original sums to 10 -> × 10/13.
  const out = applyTokenWeights(new Float32Array([1, 2, 3, 4]), 2, 2, [2, 1]);
  const expected = [20 / 13, 40 / 13, 30 / 13, 40 / 13];
  out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${i}: ${v}`));
  // All-ones weights change nothing.
  const h = new Float32Array(77 * 8).map((_, i) => Math.sin(i) + 0.3);
  assert.deepEqual(applyTokenWeights(h, 77, 8, new Float32Array(77).fill(1)), h);
  // Mean preserved on a bigger random case, while ratios between rows follow the weights.
  const w = new Float32Array(77).map((_, i) => 1 + (i % 5) / 10);
  const o = applyTokenWeights(h, 77, 8, w);
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(o) - mean(h)) < 1e-5);
  assert.ok(Math.abs(o[3 * 8] / o[0] - (h[3 * 8] * w[3]) / h[0]) < 1e-4);
  // Zero mean after weighting: no division by zero.
  assert.deepEqual(Array.from(applyTokenWeights(new Float32Array([1, -1]), 2, 1, [1, 1])), [1, -1]);
  assert.throws(() => applyTokenWeights(new Float32Array(6), 2, 2, [1, 1]), InputError);
  assert.throws(() => applyTokenWeights(new Float32Array(4), 2, 2, [1]), InputError);
});
