// Training runs' files as the studio reads them: loss lines (a half-written last line waits for the next
// read; a cut line is skipped), sample grids of every trainer's naming, runs kept per user; and model
// folders of every kind recognised, with a card's licence sentence found in its data section.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { licenceText, listCatalog, modelCard } from '../../src/server/model-catalog.ts';
import { readHistory, sampleGrids, TrainRuns } from '../../src/server/training/train-runs.ts';
import { NotFoundError } from '../../src/studio/library.ts';

test('loss lines: read incrementally, a half-written line waits, a cut line is skipped, non-metrics dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-runs-'));
  try {
    const file = join(dir, 'history.jsonl');
    writeFileSync(file, '{"step":1,"d_loss":1.5,"g_loss":0.5,"seconds":0.1}\n{"step":2,"d_lo');
    const first = readHistory(dir, 'gan');
    assert.deepEqual(first.points, [{ step: 1, d_loss: 1.5, g_loss: 0.5 }]);
    appendFileSync(file, 'ss":1.4,"g_loss":0.6}\n{"step":3,"d_loss"\n');
    const next = readHistory(dir, 'gan', first.offset);
    assert.deepEqual(next.points, [{ step: 2, d_loss: 1.4, g_loss: 0.6 }], 'the rest of line 2; the cut line 3 is skipped');
    assert.deepEqual(readHistory(dir, 'gan', next.offset).points, []);
    writeFileSync(join(dir, 'log.jsonl'), '{"step":7,"loss":2.5,"lr":0.001,"style":1.2}\n');
    assert.deepEqual(readHistory(dir, 'style').points, [{ step: 7, loss: 2.5, style: 1.2 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sample grids: GAN, style and LoRA names, by step; runs are per user', () => {
  const root = mkdtempSync(join(tmpdir(), 'gesso-runs-'));
  try {
    mkdirSync(join(root, 'samples'));
    for (const f of [
      'samples/step-000000.png',
      'samples/step-000010.png',
      'sample-00005.png',
      'samples/step000020.png',
      'samples/step000000-base.png',
      'other.png',
    ])
      writeFileSync(join(root, f), '');
    assert.deepEqual(
      sampleGrids(root).map((s) => s.step),
      [0, 5, 10, 20],
    );
    const runs = new TrainRuns(join(root, 'training'));
    const run = runs.create({ userId: 'u1', type: 'gan', name: 'g', dataset: 'd', settings: { steps: 4 } });
    assert.equal(runs.get('u1', run.id).name, 'g');
    assert.throws(() => runs.get('u2', run.id), NotFoundError, "another user's run is not found");
    assert.throws(() => runs.dir('../etc'), /run id/);
    assert.deepEqual(
      runs.list('u1').map((r) => r.id),
      [run.id],
    );
    assert.deepEqual(runs.list('u2'), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('model catalog: every kind recognised, the shipped cards read; a licence sentence from the data section', () => {
  const kinds = Object.fromEntries(listCatalog([join(import.meta.dirname, '../../models')]).map((m) => [m.id, m.kind]));
  const expected = { 'gesso-adain-v1': 'style-adain', 'gesso-clipart-v1': 'diffusion', 'gesso-fast-leopard': 'style-fast', 'gesso-gan-stars-fruit-64': 'gan' };
  for (const [id, kind] of Object.entries(expected)) assert.equal(kinds[id], kind, id);
  const card = modelCard(listCatalog([join(import.meta.dirname, '../../models')]).find((m) => m.id === 'gesso-clipart-v1')!);
  assert.match(String(card.licences), /Open Clip Art Library .* CC0 1\.0/);
  assert.equal((card.metrics as { vae_psnr_db: number }).vae_psnr_db > 20, true);
  assert.equal(licenceText('# m\n\nA model.\n\n## Data\n\n- **Pictures**: my own, `CC-BY-4.0`.\n- Other.\n'), 'Pictures: my own, CC-BY-4.0.');
  assert.equal(licenceText('# m\n\nNo licence named here.\n'), null);
});
