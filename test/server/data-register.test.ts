// The training-data register: a dataset folder (as `gesso data` writes it) registered by name, each file
// hashed with its licence classed; flagged files need a recorded decision; a model records its datasets,
// and an image's provenance reaches their licences.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodePng } from '../../src/image/write-image.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { classifyLicence } from '../../src/studio/data-register.ts';

test('licences are classed open, restrictive or unknown', () => {
  for (const l of ['CC0-1.0', 'cc0', 'CC-BY-4.0', 'CC-BY-SA-4.0', 'MIT', 'public domain']) assert.equal(classifyLicence(l), 'open', l);
  for (const l of ['CC-BY-NC-4.0', 'CC-BY-NC-SA-2.0', 'CC-BY-ND-4.0', 'All rights reserved', 'proprietary']) assert.equal(classifyLicence(l), 'restrictive', l);
  for (const l of ['', 'unknown', 'see website', 'GPL-3.0']) assert.equal(classifyLicence(l), 'unknown', l);
});

describe('register over HTTP', () => {
  let server: RunningServer;
  let dir: string;
  const fileBytes: Record<string, Buffer> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-data-reg-'));
    const ds = join(dir, 'datasets', 'mixed');
    mkdirSync(join(ds, 'images'), { recursive: true });
    const lines = [
      { file: 'images/a.png', licence: 'CC0-1.0', source: 'openclipart-svg: animals/cat.svg' },
      { file: 'images/b.png', licence: 'CC-BY-NC-4.0', source: 'a web page' },
      { file: 'images/c.png', licence: 'unknown', source: 'my folder' },
    ];
    for (const [i, l] of lines.entries()) {
      const png = Buffer.from(await encodePng(new Uint8Array(4 * 4 * 3).fill(i * 50), 4, 4, 3));
      fileBytes[l.file] = png;
      writeFileSync(join(ds, l.file), png);
    }
    writeFileSync(
      join(ds, 'manifest.jsonl'),
      lines.map((l) => JSON.stringify({ ...l, caption: 'x', category: 'c', split: 'train', colors: [] })).join('\n') + '\n',
    );
    server = await startServer({ dataDir: join(dir, 'studio'), port: 0, datasetFolders: [join(dir, 'datasets')] });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(server.url + path, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, json: (await res.json()) as T };
  };

  test('register, flag, decide, record the model, trace an image to the licences', async () => {
    assert.deepEqual((await api<{ available: string[] }>('GET', '/api/datasets')).json.available, ['mixed']);
    assert.equal((await api('POST', '/api/datasets', { id: '../datasets/mixed' })).status, 400);
    assert.equal((await api('POST', '/api/datasets', { id: 'nope' })).status, 404);
    const reg = await api<{ files: number; flagged: boolean; cleared: boolean; licences: { open: number; restrictive: number; unknown: number } }>(
      'POST',
      '/api/datasets',
      { id: 'mixed' },
    );
    assert.equal(reg.status, 201);
    assert.equal(reg.json.files, 3);
    assert.deepEqual([reg.json.licences.open, reg.json.licences.restrictive, reg.json.licences.unknown], [1, 1, 1]);
    assert.equal(reg.json.flagged, true);
    assert.equal(reg.json.cleared, false, 'flagged files need a decision before training');

    const flagged = await api<{ files: { file: string; sha256: string; licenceStatus: string }[] }>('GET', '/api/datasets/mixed/files?flagged=true');
    assert.deepEqual(
      flagged.json.files.map((f) => [f.file, f.licenceStatus]),
      [
        ['images/b.png', 'restrictive'],
        ['images/c.png', 'unknown'],
      ],
    );
    assert.equal(flagged.json.files[0]!.sha256, createHash('sha256').update(fileBytes['images/b.png']!).digest('hex'));

    const decided = await api<{ cleared: boolean; decision: string; decidedBy: string }>('POST', '/api/datasets/mixed/decision', { decision: 'exclude' });
    assert.equal(decided.json.cleared, true);
    assert.equal(decided.json.decision, 'exclude');
    assert.ok(decided.json.decidedBy.startsWith('usr_'));

    const recorded = await api<{ datasets: { id: string }[]; cleared: boolean }>('PUT', '/api/models/gesso-clipart-v1/datasets', { datasets: ['mixed'] });
    assert.deepEqual(
      recorded.json.datasets.map((d) => d.id),
      ['mixed'],
    );
    assert.equal(recorded.json.cleared, true);
    assert.equal((await api('PUT', '/api/models/gesso-clipart-v1/datasets', { datasets: ['unregistered'] })).status, 404);

    // An image made with that model (imported here: its recipe names the model) leads to the licences.
    const png = await encodePng(new Uint8Array(4 * 4 * 3), 4, 4, 3, {
      recipe: { format: 'gesso.generate', prompt: 'cat', model: { name: 'gesso-clipart-v1', hash: 'abc' } },
    });
    const imported = (await (
      await fetch(`${server.url}/api/images/import`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } })
    ).json()) as { id: string };
    const provenance = await api<{ model: { licences: { byLicence: Record<string, number> }; datasets: { id: string }[] } }>(
      'GET',
      `/api/images/${imported.id}/provenance`,
    );
    assert.deepEqual(provenance.json.model.licences.byLicence, { 'CC0-1.0': 1, 'CC-BY-NC-4.0': 1, unknown: 1 });
    assert.deepEqual(
      provenance.json.model.datasets.map((d) => d.id),
      ['mixed'],
    );
  });
});
