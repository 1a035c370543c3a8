import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanWords, fileStem } from '../../src/data/caption-words.ts';
import { learnAuthorWords, stripAuthor } from '../../src/data/author-words.ts';
import { composeCaption, folderPhrases } from '../../src/data/compose-caption.ts';
import {
  describeEntry,
  isUninformativeFolder,
  learnOpenclipartAuthors,
  looksTruncated,
  openclipartTitle,
  type OpenclipartEntry,
} from '../../src/data/openclipart.ts';

/** An SVG with openclipart's RDF metadata. */
function svg(title: string, creator: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><metadata><rdf:RDF><cc:Work rdf:about="">
    <dc:title>${title}</dc:title><dc:subject><rdf:Bag><rdf:li>x</rdf:li></rdf:Bag></dc:subject>
    <dc:publisher><cc:Agent><dc:title>Open Clip Art Library</dc:title></cc:Agent></dc:publisher>
    <dc:creator><cc:Agent><dc:title>${creator}</dc:title></cc:Agent></dc:creator></cc:Work></rdf:RDF></metadata></svg>`;
}

// A small corpus shaped like the real library: the same authors across unrelated categories, some
// files with metadata, some (Gerald G.'s "_ganson" files) with none.
const corpus: [string, string, string][] = [
  ['science/astronomy/venus_dan_gerhards_01.svg', 'Venus', 'Dan Gerhards'],
  ['signs_and_symbols/traffic_light_dan_gerhar_01.svg', 'Traffic Light', 'Dan Gerhards'],
  ['food/fruit/melon_goneri_le_bouder_01.svg', 'Melon', 'Gonéri Le Bouder'],
  ['food/burrito_ganson.svg', 'Burrito', 'Gerald G.'],
  ['recreation/music/cello_ganson.svg', 'Cello', 'Gerald G.'],
  ['animals/mammals/raccoon_ganson.svg', '', ''],
  ['people/fitness_architetto_franc_01.svg', 'fitness', 'Architetto Francesco Rollandin'],
  ['animals/lucertola_architetto_fra_01.svg', 'lucertola', 'Architetto Francesco Rollandin'],
  ['food/vegetables/ravanello_architetto_fra_01.svg', 'ravanello', 'Architetto Francesco Rollandin'],
  ['animals/mammals/crazy_monkey_shandy_brow_01.svg', 'Crazy Monkey', 'Shandy Brown'],
  ['computer/lcd_monitor_shandy_brown_.svg', 'LCD monitor', 'Shandy Brown'],
  ['people/man_face_darek_adamkiewi_01.svg', 'man face', 'Darek Adamkiewicz'],
  ['shapes/clipart_by_nicu_buculei_-_baloon1_04_02.svg', 'Clipart by Nicu Buculei - baloon1_04', 'Nicu Buculei'],
  ['shapes/jigsaw/jigsaw_red_14.svg', 'Clipart by Nicu Buculei - jigsaw_red_10', 'Nicu Buculei'],
  ['transportation/airplane_nicu_buculei_01.svg', 'airplane', 'Nicu Buculei'],
  ['shapes/button-green_benji_park_01.svg', 'button green', 'Benji Park'],
  ['recreation/party/heart-ballons_benji_park_01.svg', 'heart ballons', 'Benji Park'],
  ['electronics/bulb/lightbulb_brightlit_benj_.svg', '', ''],
  ['shapes/stars/star_92pt15step.svg', 'gramastar', 'codifiedivining'],
  ['signs_and_symbols/flags/europe/france/france_orleanais.svg', 'France Orleanais', 'Patricia Fidi'],
  ['signs_and_symbols/flags/europe/andorre_flag_patricia_fi_01.svg', 'Andorre flag', 'Patricia Fidi'],
  ['geography/flag_of_france_01.svg', 'flag of france', 'Someone Else'],
  ['animals/fish/brown_fish_01.svg', 'brown fish', 'Ann Other'],
  ['computer/icons/etiquette-theme/mimetypes/gnome-mime-application-pdf.svg', 'etiquette', 'Andy Fitzsimon'],
  ['tools/weapons/9_mm_gun_01.svg', '9 mm gun', 'Mark Near'],
  ['recreation/games/chess/chesspieces-king.svg', 'chess pieces', 'Jose Hevia'],
  ['unsorted/foglie_verdi.svg', 'foglie verdi', 'Architetto Francesco Rollandin'],
  ['education/books/help-books-aj.svg_aj_ash_01.svg', 'help books', 'AJ Ashton'],
  ['computer/icons/aj_ashton_clip_art_01.svg', 'clip art', 'AJ Ashton'],
  ['computer/icons/lemon-theme/actions/2rightarrow.svg', '', ''],
];

const entries: OpenclipartEntry[] = corpus.map(([path, title, creator]) =>
  describeEntry(path, title || creator ? svg(title, creator) : '<svg width="10" height="10"/>'),
);
const authors = learnOpenclipartAuthors(entries);

function caption(path: string): string {
  const entry = entries.find((e) => e.relPath === path) ?? describeEntry(path, '');
  return composeCaption(openclipartTitle(entry, authors), folderPhrases(entry.category, isUninformativeFolder), []);
}

test('openclipart file names become clean captions (title, folder, parent folder)', () => {
  const table: [string, string][] = [
    // The brief's example: no metadata, author learned from the corpus, name cut at 24 characters.
    ['food/fruit/apple_bitten_dan_gerhard_01.svg', 'apple bitten, fruit, food'],
    ['science/astronomy/venus_dan_gerhards_01.svg', 'venus, astronomy, science'],
    ['signs_and_symbols/traffic_light_dan_gerhar_01.svg', 'traffic light, signs and symbols'],
    ['food/fruit/melon_goneri_le_bouder_01.svg', 'melon, fruit, food'],
    ['food/burrito_ganson.svg', 'burrito, food'],
    ['animals/mammals/raccoon_ganson.svg', 'raccoon, mammals, animals'],
    ['people/fitness_architetto_franc_01.svg', 'fitness, people'],
    ['animals/mammals/crazy_monkey_shandy_brow_01.svg', 'crazy monkey, mammals, animals'],
    ['people/man_face_darek_adamkiewi_01.svg', 'man face, people'],
    ['shapes/clipart_by_nicu_buculei_-_baloon1_04_02.svg', 'baloon, shapes'],
    ['shapes/jigsaw/jigsaw_red_14.svg', 'jigsaw red, jigsaw, shapes'],
    ['shapes/button-green_benji_park_01.svg', 'button green, shapes'],
    ['electronics/bulb/lightbulb_brightlit_benj_.svg', 'lightbulb brightlit, bulb, electronics'],
    ['shapes/stars/star_92pt15step.svg', 'star, stars, shapes'],
    ['signs_and_symbols/flags/europe/france/france_orleanais.svg', 'france orleanais, france, europe, flags, signs and symbols'],
    ['signs_and_symbols/flags/europe/andorre_flag_patricia_fi_01.svg', 'andorre flag, europe, flags, signs and symbols'],
    ['geography/flag_of_france_01.svg', 'flag of france, geography'],
    ['animals/fish/brown_fish_01.svg', 'brown fish, fish, animals'],
    ['computer/icons/etiquette-theme/mimetypes/gnome-mime-application-pdf.svg', 'application pdf, mimetypes, computer'],
    ['tools/weapons/9_mm_gun_01.svg', 'mm gun, weapons, tools'],
    ['recreation/games/chess/chesspieces-king.svg', 'chesspieces king, chess, games, recreation'],
    ['unsorted/foglie_verdi.svg', 'foglie verdi'],
    ['education/books/help-books-aj.svg_aj_ash_01.svg', 'help books, books, education'],
    ['computer/icons/aj_ashton_clip_art_01.svg', 'computer'],
    ['computer/icons/lemon-theme/actions/2rightarrow.svg', 'rightarrow, actions, computer'],
  ];
  const wrong = table.filter(([path, want]) => caption(path) !== want).map(([path, want]) => `${path}: got "${caption(path)}", want "${want}"`);
  assert.deepEqual(wrong, []);
});

test('the author stop-list holds recurring author names and not content words', () => {
  for (const w of ['dan', 'gerhards', 'ganson', 'architetto', 'nicu', 'buculei', 'benji', 'park', 'shandy']) {
    assert.ok(authors.has(w), `${w} should be an author word`);
  }
  // "france" and "brown" are authors' names too (truncated "francesco", Shandy Brown) but also content;
  // "patricia" (Patricia Fidi) is in one category only: her files lose her name by their own metadata.
  for (const w of ['france', 'brown', 'fish', 'flag', 'red', 'star', 'light', 'patricia']) {
    assert.ok(!authors.has(w), `${w} should not be an author word`);
  }
});

test('an author word seen in one category only is not learned', () => {
  const learned = learnAuthorWords([
    { fileWords: ['cat', 'zork'], titleWords: ['cat'], creatorWords: [], group: 'animals' },
    { fileWords: ['dog', 'zork'], titleWords: ['dog'], creatorWords: [], group: 'animals' },
    { fileWords: ['pear', 'quux'], titleWords: ['pear'], creatorWords: [], group: 'food' },
    { fileWords: ['car', 'quux'], titleWords: ['car'], creatorWords: [], group: 'transport' },
  ]);
  assert.deepEqual([...learned].sort(), ['quux']);
});

test('stripAuthor never empties a name, and only strips from its end', () => {
  const authorWords = new Set(['park', 'benji']);
  assert.deepEqual(stripAuthor(['park'], { authorWords }), ['park']);
  assert.deepEqual(stripAuthor(['park', 'bench', 'benji', 'park'], { authorWords }), ['park', 'bench']);
  // A cut-off last word goes only when the name was cut and the word starts an author word.
  assert.deepEqual(stripAuthor(['bench', 'benji', 'pa'], { authorWords, truncated: true }), ['bench']);
  assert.deepEqual(stripAuthor(['bench', 'pa'], { authorWords, truncated: true }), ['bench']);
  assert.deepEqual(stripAuthor(['bench', 'benji', 'pa'], { authorWords, truncated: false }), ['bench', 'benji', 'pa']);
  assert.deepEqual(stripAuthor(['bench', 'tr'], { authorWords, truncated: true }), ['bench', 'tr']);
  // The drawing's own creator, from its metadata, goes wherever it stands whole, with a "by" before it.
  assert.deepEqual(stripAuthor(['by', 'ann', 'lee', 'kite'], { authorWords, creatorWords: ['ann', 'lee'] }), ['kite']);
});

test('cleanWords drops numbers, single letters, noise words and "clip art"', () => {
  assert.deepEqual(cleanWords('Clip_Art-of_a_RED_apple_01'), ['of', 'red', 'apple']);
  assert.deepEqual(cleanWords('head14 92pt15step 3d x svg icon clipart bw alt2'), ['head', '3d']);
  assert.deepEqual(cleanWords('RadiationsIonisantes'), ['radiations', 'ionisantes']);
  assert.deepEqual(cleanWords('Gonéri Le Bouder'), ['goneri', 'le', 'bouder']);
  assert.equal(fileStem('a/b/gnome-mime-application-vnd.ms-powerpoint.svg'), 'gnome-mime-application-vnd.ms-powerpoint');
});

test('truncation is judged from the part of the name before its index', () => {
  assert.equal(looksTruncated('apple_bitten_dan_gerhard_01'), true);
  assert.equal(looksTruncated('bread_and_wine_mark_near_'), true);
  assert.equal(looksTruncated('venus_dan_gerhards_01'), false);
  assert.equal(looksTruncated('turkey_platter_01_with_fruit_and_vegitables_01'), false);
});

test('captions put the main measured colour right before the title', () => {
  assert.equal(composeCaption('star', ['stars', 'shapes'], ['red']), 'red star, stars, shapes');
  assert.equal(composeCaption('star', ['stars', 'shapes'], ['red', 'black']), 'red star with black, stars, shapes');
  assert.equal(composeCaption('apple bitten', ['fruit', 'food'], ['red', 'green', 'black']), 'red apple bitten with green and black, fruit, food');
  // The title names a colour already: measured colours only follow.
  assert.equal(composeCaption('jigsaw red', ['jigsaw', 'shapes'], ['red', 'black']), 'jigsaw red with black, jigsaw, shapes');
  assert.equal(composeCaption('green pear', ['fruit'], ['yellow']), 'green pear with yellow, fruit');
  // No title: the colour goes on the first folder phrase.
  assert.equal(composeCaption('', ['stars', 'shapes'], ['yellow']), 'yellow stars, shapes');
  assert.equal(composeCaption('', [], ['blue']), 'blue');
  assert.equal(composeCaption('', [], []), '');
  // A folder phrase equal to the title is not repeated.
  assert.equal(composeCaption('flowers', ['flowers', 'plants'], []), 'flowers, plants');
});

test('folder phrases go deepest first and skip uninformative folders', () => {
  assert.deepEqual(folderPhrases('food/fruit'), ['fruit', 'food']);
  assert.deepEqual(folderPhrases('computer/icons/flat-theme/action', isUninformativeFolder), ['action', 'computer']);
  assert.deepEqual(folderPhrases('special/patterns', isUninformativeFolder), ['patterns']);
  assert.deepEqual(folderPhrases(''), []);
});
