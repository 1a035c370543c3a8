// `gesso data emoji` on small stand-in packages laid out like the real npm tarballs (unpacked in the
// packages folder, so nothing is downloaded): captions from CLDR names + style word, licence per file,
// skipped groups, ATTRIBUTION.md, and bad input (unknown set, damaged name list, a tarball that is not
// the pinned version, no registry).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { readManifest } from '../../src/data/dataset.ts';
import { buildEmojiDataset, emojiCaptionParts } from '../../src/data/emoji.ts';
import { hexKey, readEmojiNames, slug } from '../../src/data/emoji-names.ts';
import { EMOJI_NAMES_PACKAGE, EMOJI_SETS, parseEmojiSets } from '../../src/data/emoji-sets.ts';
import { ensureNpmPackage, tarballName } from '../../src/data/npm-package.ts';

let root = '';
let packages = '';

const disc = (fill: string): string => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><circle cx="18" cy="18" r="14" fill="${fill}"/></svg>`;
const star = (fill: string): string =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><path fill="${fill}" d="M18 2l4 12h12l-10 8 4 12-10-8-10 8 4-12-10-8h12z"/></svg>`;

/** Writes `<packages>/<tarball stem>/package/` with package.json and the given files. */
function fakePackage(spec: { name: string; version: string; integrity: string }, files: Record<string, string>): void {
  const dir = join(packages, tarballName(spec).slice(0, -4), 'package');
  for (const [rel, text] of Object.entries({ 'package.json': JSON.stringify({ name: spec.name, version: spec.version }), ...files })) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'gesso-emoji-'));
  packages = join(root, 'npm');
  fakePackage(EMOJI_NAMES_PACKAGE, {
    'en/data.json': JSON.stringify([
      { label: 'red apple', hexcode: '1F34E', tags: ['apple', 'fruit', 'red'], group: 4, subgroup: 42 },
      { label: 'star', hexcode: '2B50', tags: ['star', 'medium'], group: 5, subgroup: 57 },
      { label: 'flag: Japan', hexcode: '1F1EF-1F1F5', tags: ['flag'], group: 9, subgroup: 98 },
      { label: 'light skin tone', hexcode: '1F3FB', tags: ['skin'], group: 2, subgroup: 32 },
      { label: 'regional indicator A', hexcode: '1F1E6' },
    ]),
    'meta/groups.json': JSON.stringify({
      groups: { 2: 'component', 4: 'food-drink', 5: 'travel-places', 9: 'flags' },
      subgroups: { 32: 'skin-tone', 42: 'food-fruit', 57: 'sky-weather', 98: 'country-flag' },
    }),
  });
  fakePackage(EMOJI_SETS.twemoji.package, { '1f34e.svg': disc('#dd2e44'), '2b50.svg': star('#ffac33'), '1f1ef-1f1f5.svg': disc('#ffffff') });
  fakePackage(EMOJI_SETS.fluent.package, { 'icons/flat/red-apple.svg': disc('#f03a17'), 'icons/flat/star-default.svg': star('#ffb02e') });
  fakePackage(EMOJI_SETS.noto.package, {
    'icons.json': JSON.stringify({ prefix: 'noto', width: 128, height: 128, icons: { 'red-apple': { body: '<circle cx="64" cy="64" r="50" fill="#c00"/>' } } }),
    'chars.json': JSON.stringify({ '1f34e': 'red-apple', '2b50': 'star' }), // "star" has no icon: missing
  });
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('names: skipped groups and subgroups are left out; keys match sets that differ on FE0F and case', () => {
  const names = readEmojiNames(join(packages, 'emojibase-data-17.0.0', 'package'));
  assert.deepEqual(
    names.map((n) => n.label),
    ['red apple', 'star'],
  );
  assert.equal(hexKey('2764-FE0F-200D-1F525'), hexKey('2764-200d-1f525'));
  assert.equal(slug('A button (blood type)'), 'a-button-blood-type');
  assert.equal(slug('piñata'), 'pinata');
});

test('captions: CLDR name, keywords not already in it, subgroup, style word', () => {
  const parts = emojiCaptionParts(
    { label: 'red apple', hexcode: '1F34E', tags: ['apple', 'fruit', 'red', 'food'], group: 'food-drink', subgroup: 'food-fruit' },
    'twemoji',
  );
  assert.deepEqual(parts, { title: 'red apple', context: ['food fruit', 'twemoji style'] });
});

test('gesso data emoji builds a captioned dataset with each set licence per file and ATTRIBUTION.md', async () => {
  const out = join(root, 'emoji-32');
  const report = await buildEmojiDataset({ outDir: out, size: 32, packagesDir: packages, valFraction: 0 });
  const lines = readManifest(out);
  // twemoji: apple + star (its flag file is not named: flags are skipped); fluent: apple + star; noto: apple.
  assert.equal(lines.length, 5);
  assert.equal(report.counts.kept, 5);
  for (const l of lines) {
    const set = Object.values(EMOJI_SETS).find((s) => l.source.startsWith(`${s.package.name}@${s.package.version}:`));
    assert.ok(set, `source ${l.source} names its package`);
    assert.equal(l.licence, set.licence);
    assert.match(l.caption, new RegExp(`, ${set.style} style$`));
    assert.ok(existsSync(join(out, l.file)));
  }
  const apple = lines.find((l) => l.source === '@twemoji/svg@15.0.0:1f34e.svg');
  assert.equal(apple?.category, 'food-drink/food-fruit');
  assert.match(apple?.caption ?? '', /^red apple, food fruit, twemoji style$/);
  const starLine = lines.find((l) => l.source === 'fluentui-emoji@1.3.0:star-default.svg');
  assert.match(starLine?.caption ?? '', /^(yellow|orange) star, medium, sky weather, fluent style$/);
  const sets = report['sets'] as { id: string; missing: number }[];
  assert.deepEqual(
    sets.map((s) => [s.id, s.missing]),
    [
      ['twemoji', 0],
      ['fluent', 0],
      ['noto', 1],
    ],
  );
  const attribution = readFileSync(join(out, 'ATTRIBUTION.md'), 'utf8');
  assert.match(attribution, /\*\*twemoji\*\* \(2 drawings, CC-BY-4\.0\): Twemoji graphics © Twitter/);
  assert.match(attribution, /\*\*noto\*\* \(1 drawings, Apache-2\.0\)/);
  assert.match(attribution, /\*\*fluent\*\* \(2 drawings, MIT\)/);
});

test('Iconify sets named by short name: aliases followed once, numbered variants, FxEmoji run-together names', async () => {
  const iconify = (icons: Record<string, string>, aliases: Record<string, { parent: string }> = {}): Record<string, string> => ({
    'icons.json': JSON.stringify({
      prefix: 'x',
      width: 64,
      height: 64,
      icons: Object.fromEntries(Object.entries(icons).map(([k, fill]) => [k, { body: `<circle cx="32" cy="32" r="28" fill="${fill}"/>` }])),
      aliases,
    }),
  });
  // emojione: "star" is an alias of "red-apple" (as "cricket" is of "cricket-game"): the first name keeps the drawing.
  fakePackage(EMOJI_SETS.emojione.package, iconify({ 'red-apple': '#d00' }, { star: { parent: 'red-apple' } }));
  fakePackage(EMOJI_SETS.streamline.package, iconify({ 'red-apple-1': '#e11', 'red-apple-2': '#e22' }));
  fakePackage(EMOJI_SETS.fxemoji.package, iconify({ redapple: '#c22', star: '#fc0' }));
  const out = join(root, 'emoji-more-32');
  const report = await buildEmojiDataset({ outDir: out, size: 32, packagesDir: packages, valFraction: 0, sets: ['emojione', 'streamline', 'fxemoji'] });
  const sources = readManifest(out)
    .map((l) => l.source)
    .sort();
  assert.deepEqual(sources, [
    '@iconify-json/emojione@1.2.3:red-apple.svg',
    '@iconify-json/fxemoji@1.2.2:redapple.svg',
    '@iconify-json/fxemoji@1.2.2:star.svg',
    '@iconify-json/streamline-emojis@1.2.4:red-apple-1.svg',
  ]);
  const sets = report['sets'] as { id: string; missing: number }[];
  assert.deepEqual(
    sets.map((s) => [s.id, s.missing]),
    [
      ['emojione', 1],
      ['streamline', 1],
      ['fxemoji', 0],
    ],
  );
  assert.match(readFileSync(join(out, 'ATTRIBUTION.md'), 'utf8'), /\*\*streamline\*\* \(1 drawings, CC-BY-4\.0\): Streamline Emojis/);
});

test('bad input: an unknown set, a damaged name list, a tarball that is not the pinned version, no registry', async () => {
  assert.throws(
    () => parseEmojiSets('twemoji,apple'),
    (e: unknown) => e instanceof InputError && /unknown emoji set "apple"/.test(e.message),
  );
  assert.throws(() => parseEmojiSets(' , '), InputError);

  const damaged = join(root, 'damaged');
  mkdirSync(join(damaged, 'en'), { recursive: true });
  mkdirSync(join(damaged, 'meta'), { recursive: true });
  writeFileSync(join(damaged, 'en', 'data.json'), '[{"label": "red apple"');
  writeFileSync(join(damaged, 'meta', 'groups.json'), '{"groups": {}, "subgroups": {}}');
  assert.throws(
    () => readEmojiNames(damaged),
    (e: unknown) => e instanceof InputError && e.message.includes(join(damaged, 'en', 'data.json')),
  );

  // A tarball in the cache that is not the pinned version is refused, and nothing is unpacked.
  const cache = join(root, 'cache');
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, tarballName(EMOJI_SETS.openmoji.package)), 'not a tarball');
  assert.throws(
    () => ensureNpmPackage(EMOJI_SETS.openmoji.package, cache),
    (e: unknown) => e instanceof InputError && /is not openmoji@17\.0\.0: its sha512 is/.test(e.message),
  );
  assert.ok(!existsSync(join(cache, 'openmoji-17.0.0')));

  // No registry (an unreachable one): a clear message that says how to work offline.
  const saved = { registry: process.env['npm_config_registry'], retries: process.env['npm_config_fetch_retries'], cacheDir: process.env['npm_config_cache'] };
  process.env['npm_config_registry'] = 'http://127.0.0.1:9/';
  process.env['npm_config_fetch_retries'] = '0';
  process.env['npm_config_cache'] = join(root, 'npm-cache'); // an empty npm cache: npm must ask the registry
  try {
    assert.throws(
      () => ensureNpmPackage(EMOJI_SETS.fluent.package, join(root, 'offline')),
      (e: unknown) =>
        e instanceof InputError &&
        /cannot download fluentui-emoji@1\.3\.0 from the npm registry/.test(e.message) &&
        /fluentui-emoji-1\.3\.0\.tgz/.test(e.message),
    );
  } finally {
    for (const [key, value] of [
      ['npm_config_registry', saved.registry],
      ['npm_config_fetch_retries', saved.retries],
      ['npm_config_cache', saved.cacheDir],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  assert.ok(!existsSync(join(root, 'offline', 'fluentui-emoji-1.3.0')));
});
