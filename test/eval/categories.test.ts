// Choosing content categories and their prompts from a manifest; per-category accuracy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatasetItem } from '../../src/data/dataset.ts';
import { categoryKey, chooseCategories, rankCategories } from '../../src/eval/categories.ts';
import { perClassAccuracy } from '../../src/eval/default-eval.ts';

function items(spec: [category: string, caption: string, n: number][]): DatasetItem[] {
  return spec.flatMap(([category, caption, n]) =>
    Array.from(
      { length: n },
      (_, i): DatasetItem => ({ file: `images/${category}-${i}.png`, caption, category, source: 's', licence: 'CC0-1.0', split: 'train', colors: [] }),
    ),
  );
}

test('category keys are the first two folders', () => {
  assert.equal(categoryKey('computer/icons/flat-theme/action'), 'computer/icons');
  assert.equal(categoryKey('food/fruit'), 'food/fruit');
  assert.equal(categoryKey('tools'), 'tools');
  assert.equal(categoryKey(''), '');
});

test('prompts: the singular with an article when captions use it, else the folder phrase; unnamed and grab-bag folders do not qualify', () => {
  const data = items([
    ['shapes/stars', 'black star, stars, shapes', 30],
    ['computer/icons/flat-theme/action', 'gray go next, computer', 25], // "icons" is a noise word: captions never name it
    ['signs_and_symbols/flags/europe', 'red flags with blue, europe, flags, signs and symbols', 20],
    ['people', 'brown man, people', 12], // "people" is in every people/* caption too
    ['people/clothing', 'gray hat, clothing, people', 14],
    ['signs_and_symbols/map_symbols', 'black map symbols, signs and symbols', 10],
    ['food/fruit', 'red apple, fruit, food', 8],
    ['unsorted', 'gray thing', 7],
  ]);
  const ranked = rankCategories(data);
  const byKey = new Map(ranked.map((c) => [c.key, c]));
  assert.equal(byKey.get('shapes/stars')?.prompt, 'a star');
  assert.equal(byKey.get('signs_and_symbols/flags')?.prompt, 'flags');
  assert.equal(byKey.get('signs_and_symbols/map_symbols')?.prompt, 'map symbols');
  assert.equal(byKey.get('food/fruit')?.prompt, 'fruit');
  assert.equal(byKey.get('computer/icons')?.qualifies, false);
  assert.equal(byKey.get('people')?.qualifies, false, 'precision 12/26');
  assert.equal(byKey.get('unsorted')?.qualifies, false);

  const chosen = chooseCategories(data, 3);
  assert.deepEqual(
    chosen.map((c) => c.key),
    ['shapes/stars', 'signs_and_symbols/flags', 'people/clothing'],
  );
  assert.equal(chosen[2]?.coverage, 1);
  assert.equal(chosen[2]?.precision, 1);
  assert.throws(() => chooseCategories(items([['unsorted', 'gray thing', 5]])), /at least 2/);
});

test('per-category accuracy', () => {
  assert.deepEqual(perClassAccuracy([0, 1, 1, 2], [0, 0, 1, 1], 3), [0.5, 0.5, 0], 'a class with no items scores 0');
});
