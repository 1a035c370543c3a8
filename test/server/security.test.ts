// Security of `gesso serve`: Host and Origin checks (DNS rebinding, cross-site POST), tokens, per-user
// isolation, roles on shared boards, ids that try to be paths, oversized images refused from their
// header, and untrusted PNG metadata kept as text. Library-only routes: no generation needed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { encodeChunk, insertTextChunks } from '../../src/image/png-chunks.ts';
import { encodePng } from '../../src/image/write-image.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';

/** A raw request, so Host and Origin can be anything. */
function raw(
  server: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function client(server: RunningServer, token: string | null) {
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; json: T }> => {
    const headers: Record<string, string> = {};
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: Buffer | string | undefined;
    if (body !== undefined) {
      headers['content-type'] = contentType;
      payload = Buffer.isBuffer(body) ? body : JSON.stringify(body);
    }
    const res = await fetch(server.url + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
    return { status: res.status, json: (isJson && text ? JSON.parse(text) : null) as T };
  };
}

/** A PNG that says it is width × height; its IDAT holds one compressed row, so it is tiny. Never decodable. */
function hugePngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    encodeChunk('IHDR', ihdr),
    encodeChunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    encodeChunk('IEND', new Uint8Array(0)),
  ]);
}

async function smallPng(prompt: string): Promise<Buffer> {
  return Buffer.from(
    await encodePng(new Uint8Array(8 * 8 * 3).fill(200), 8, 8, 3, { parameters: { prompt, steps: 20, sampler: 'Euler a', cfgScale: 7, seed: 1 } }),
  );
}

describe('local mode: Host and Origin checks', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-sec-local-'));
    server = await startServer({ dataDir: dir, port: 0 });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 only', () => {
    const address = server.app.server.address();
    assert.equal(typeof address === 'object' && address ? address.address : null, '127.0.0.1');
  });

  test('a page on another origin cannot queue jobs or change the library (the ComfyUI hole)', async () => {
    const host = `127.0.0.1:${server.port}`;
    const job = JSON.stringify({ ms: 0 });
    const crossSite = await raw(server, 'POST', '/api/jobs/sleep', { host, origin: 'http://evil.example', 'content-type': 'application/json' }, job);
    assert.equal(crossSite.status, 403);
    assert.match(crossSite.text, /cross-origin/);
    const a1111 = await raw(
      server,
      'POST',
      '/sdapi/v1/txt2img',
      { host, origin: 'https://evil.example', 'content-type': 'application/json' },
      '{"prompt":"x"}',
    );
    assert.equal(a1111.status, 403);
    const fetchMeta = await raw(server, 'POST', '/api/jobs/sleep', { host, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, job);
    assert.equal(fetchMeta.status, 403);
    // A "simple" cross-site form post has no JSON content type: refused too (415 before the route runs, 403 with an Origin).
    const form = await raw(server, 'POST', '/api/jobs/sleep', { host, 'content-type': 'text/plain' }, job);
    assert.ok(form.status === 415 || form.status === 400, `text/plain body refused, got ${form.status}`);
    const sameOrigin = await raw(server, 'POST', '/api/jobs/sleep', { host, origin: `http://${host}`, 'content-type': 'application/json' }, job);
    assert.equal(sameOrigin.status, 202);
    const noOrigin = await raw(server, 'POST', '/api/jobs/sleep', { host, 'content-type': 'application/json' }, job);
    assert.equal(noOrigin.status, 202, 'scripts and SDK clients send no Origin');
  });

  test('DNS rebinding: a request whose Host is not localhost is refused, even a GET', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, '127.0.0.1.nip.io']) {
      const res = await raw(server, 'GET', '/api/images', { host });
      assert.equal(res.status, 403, host);
      assert.match(res.text, /DNS rebinding/);
    }
    assert.equal((await raw(server, 'GET', '/api/images', { host: `localhost:${server.port}` })).status, 200);
  });

  test('a WebSocket from another origin is refused', async () => {
    const res = await raw(server, 'GET', '/api/events/ws', {
      host: `127.0.0.1:${server.port}`,
      origin: 'http://evil.example',
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    });
    assert.equal(res.status, 403);
  });
});

describe('accounts mode (--listen): tokens, isolation, roles, limits, untrusted metadata', () => {
  let server: RunningServer;
  let dir: string;
  let admin: ReturnType<typeof client>;
  let alice: ReturnType<typeof client>;
  let bob: ReturnType<typeof client>;
  let aliceImage: string;
  let bobImage: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-sec-accounts-'));
    server = await startServer({ dataDir: dir, port: 0, listen: '127.0.0.1', limits: { maxBytes: 1024 * 1024, maxPixels: 4096 * 4096 } });
    admin = client(server, readFileSync(server.adminTokenFile!, 'utf-8').trim());
    const a = await admin<{ token: string }>('POST', '/api/users', { name: 'alice' });
    const b = await admin<{ token: string }>('POST', '/api/users', { name: 'bob' });
    assert.equal(a.status, 201);
    alice = client(server, a.json.token);
    bob = client(server, b.json.token);
    aliceImage = (await alice<{ id: string }>('POST', '/api/images/import', await smallPng('alice private sketch'), 'image/png')).json.id;
    bobImage = (await bob<{ id: string }>('POST', '/api/images/import', await smallPng('bob drawing'), 'image/png')).json.id;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no token or a wrong token is refused; the admin token file is private', async () => {
    assert.equal((await client(server, null)('GET', '/api/images')).status, 401);
    assert.equal((await client(server, 'gso_not-a-real-token')('GET', '/api/images')).status, 401);
    assert.equal((await client(server, 'x'.repeat(5000))('GET', '/api/images')).status, 401);
    assert.equal((await client(server, null)('POST', '/sdapi/v1/txt2img', { prompt: 'x' })).status, 401);
    assert.equal((await client(server, null)('POST', '/v1/images/generations', { prompt: 'x' })).status, 401);
    assert.equal((await alice('POST', '/api/users', { name: 'mallory' })).status, 403, 'only an admin creates accounts');
    const { statSync } = await import('node:fs');
    assert.equal(statSync(server.adminTokenFile!).mode & 0o077, 0, 'admin-token is readable by its owner only');
    const db = readFileSync(join(dir, 'gesso.db'));
    assert.ok(!db.includes(Buffer.from(readFileSync(server.adminTokenFile!, 'utf-8').trim())), 'tokens are stored hashed');
  });

  test("user A cannot read, list, change or compare user B's images, nor see B's jobs", async () => {
    assert.equal((await alice('GET', `/api/images/${bobImage}`)).status, 404);
    assert.equal((await alice('GET', `/api/images/${bobImage}/png`)).status, 404);
    const listed = await alice<{ images: { id: string }[] }>('GET', '/api/images');
    assert.deepEqual(
      listed.json.images.map((i) => i.id),
      [aliceImage],
    );
    assert.deepEqual((await alice<{ images: unknown[] }>('GET', '/api/images?q=bob')).json.images, []);
    assert.equal((await alice('PATCH', `/api/images/${bobImage}`, { rating: 1 })).status, 404);
    assert.equal((await alice('DELETE', `/api/images/${bobImage}`)).status, 404);
    assert.equal((await alice('POST', `/api/images/${bobImage}/tags`, { tags: ['mine'] })).status, 404);
    assert.equal((await alice('POST', '/api/comparisons', { a: aliceImage, b: bobImage, winner: 'a' })).status, 404);
    assert.equal((await alice('POST', '/api/generate', { prompt: 'x', initImageId: bobImage })).status, 404, "B's image cannot be used as an init image");
    const bobRecord = await bob<{ rating: number | null; deletedAt: number | null }>('GET', `/api/images/${bobImage}`);
    assert.equal(bobRecord.json.rating, null);
    assert.equal(bobRecord.json.deletedAt, null);

    const job = await bob<{ id: string }>('POST', '/api/jobs/sleep', { ms: 0 });
    assert.equal((await alice('GET', `/api/jobs/${job.json.id}`)).status, 404);
    assert.equal((await alice('POST', `/api/jobs/${job.json.id}/cancel`)).status, 404);
    assert.ok(!(await alice<{ jobs: { id: string }[] }>('GET', '/api/jobs')).json.jobs.some((j) => j.id === job.json.id));
  });

  test('shared boards: viewer can look, editor can add their own images, others see nothing', async () => {
    const board = (await alice<{ id: string }>('POST', '/api/collections', { name: 'Shared board' })).json;
    await alice('POST', `/api/collections/${board.id}/items`, { imageId: aliceImage });
    assert.equal((await bob('GET', `/api/collections/${board.id}`)).status, 404, 'not shared yet');
    assert.equal((await bob('PUT', `/api/collections/${board.id}/members`, { user: 'bob', role: 'editor' })).status, 404);
    assert.equal((await alice('PUT', `/api/collections/${board.id}/members`, { user: 'bob', role: 'viewer' })).json.role, 'owner');
    const seen = await bob<{ images: { id: string }[] }>('GET', `/api/collections/${board.id}/images`);
    assert.deepEqual(
      seen.json.images.map((i) => i.id),
      [aliceImage],
    );
    assert.equal((await bob('GET', `/api/collections/${board.id}/images/${aliceImage}/png`)).status, 200);
    assert.equal((await bob('GET', `/api/images/${aliceImage}`)).status, 404, 'the board does not open the rest of the library');
    assert.equal((await bob('POST', `/api/collections/${board.id}/items`, { imageId: bobImage })).status, 403, 'viewer cannot add');
    await alice('PUT', `/api/collections/${board.id}/members`, { user: 'bob', role: 'editor' });
    assert.equal((await bob('POST', `/api/collections/${board.id}/items`, { imageId: bobImage })).status, 200);
    assert.equal((await bob('POST', `/api/collections/${board.id}/items`, { imageId: aliceImage })).status, 404, 'an editor adds only their own images');
    assert.equal((await bob('PUT', `/api/collections/${board.id}/members`, { user: 'alice', role: 'viewer' })).status, 403, 'only the owner shares');
  });

  test('ids and names that try to be paths are refused', async () => {
    const attempts = ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fgesso.db', 'img_..%2F..%2F', `${aliceImage}%00.png`, 'C:%5Cwindows'];
    for (const id of attempts) {
      for (const path of [`/api/images/${id}`, `/api/images/${id}/png`, `/api/jobs/${id}`, `/api/collections/${id}`, `/api/collections/${id}/export`]) {
        const res = await alice('GET', path);
        assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
      }
    }
    for (const model of ['../../etc', '/etc/passwd', '..', 'gesso-clipart-v1/../../x']) {
      const res = await alice<{ error: string }>('POST', '/api/generate', { prompt: 'x', model });
      assert.equal(res.status, 400, model);
    }
    assert.equal((await alice('POST', '/api/generate', { prompt: 'x', initImage: '/etc/passwd' })).status, 400, 'initImage is base64 data, never a path');
    assert.equal((await alice('POST', '/sdapi/v1/options', { sd_model_checkpoint: '../../../etc/passwd' })).status, 400);
    assert.equal((await alice('PUT', `/api/collections/col_0000000000000000/members`, { user: '../admin', role: 'viewer' })).status, 404);
    // A file name in an upload is kept as text only.
    const imported = await alice<{ provenance: { fileName: string }; id: string }>(
      'POST',
      `/api/images/import?fileName=${encodeURIComponent('../../../../tmp/evil.png')}`,
      await smallPng('named'),
      'image/png',
    );
    assert.equal(imported.status, 201);
    assert.equal(imported.json.provenance.fileName, '../../../../tmp/evil.png');
    const { existsSync } = await import('node:fs');
    assert.ok(!existsSync('/tmp/evil.png'));
  });

  test('a 20000x20000 PNG is refused from its header, before decoding, on every way in', async () => {
    const huge = hugePngHeader(20000, 20000);
    assert.ok(huge.length < 200_000, `the bomb is small (${huge.length} bytes)`);
    const before = process.memoryUsage().rss;
    const imported = await alice<{ error: string }>('POST', '/api/images/import', huge, 'image/png');
    assert.equal(imported.status, 413);
    assert.match(imported.json.error, /20000x20000 = 400000000 pixels.*refused before decoding/);
    const b64 = huge.toString('base64');
    assert.equal((await alice('POST', '/api/generate', { prompt: 'x', initImage: b64 })).status, 413);
    assert.equal((await alice('POST', '/sdapi/v1/png-info', { image: b64 })).status, 413);
    assert.equal((await alice('POST', '/sdapi/v1/img2img', { prompt: 'x', init_images: [b64] })).status, 413);
    assert.ok(process.memoryUsage().rss - before < 300 * 1024 * 1024, 'nothing was decoded');
    const tooBig = Buffer.concat([await smallPng('big'), Buffer.alloc(2 * 1024 * 1024)]);
    assert.equal((await alice('POST', '/api/images/import', tooBig, 'image/png')).status, 413, 'over the byte limit');
    assert.equal((await alice('POST', '/api/images/import', Buffer.from('not a png'), 'image/png')).status, 400);
  });

  test('metadata with <script> is stored and returned as text, never as markup', async () => {
    const evil = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>';
    const png = Buffer.from(insertTextChunks(await smallPng(evil), [{ keyword: 'Comment', text: '<b>bold</b>' }]));
    const imported = await alice<{ id: string; prompt: string; parametersText: string }>('POST', '/api/images/import', png, 'image/png');
    assert.equal(imported.status, 201);
    assert.equal(imported.json.prompt, evil);
    const res = await fetch(`${server.url}/api/images/${imported.json.id}`, { headers: { authorization: `Bearer ${await tokenOf(alice)}` } });
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = await res.text();
    assert.ok(body.includes(JSON.stringify(evil).slice(1, -1)), 'returned as a JSON string');
    const found = await alice<{ images: { id: string }[] }>('GET', '/api/images?q=script%20alert');
    assert.deepEqual(
      found.json.images.map((i) => i.id),
      [imported.json.id],
      'searchable as plain words; FTS syntax in it is not interpreted',
    );
    const info = await alice<{ info: string; items: Record<string, string> }>('POST', '/sdapi/v1/png-info', { image: png.toString('base64') });
    assert.ok(info.json.info.startsWith(evil));
    assert.equal(info.json.items.Comment, '<b>bold</b>');
    const pngRes = await fetch(`${server.url}/api/images/${imported.json.id}/png`, { headers: { authorization: `Bearer ${await tokenOf(alice)}` } });
    assert.equal(pngRes.headers.get('content-type'), 'image/png');
    assert.equal(pngRes.headers.get('x-content-type-options'), 'nosniff');
  });

  async function tokenOf(c: ReturnType<typeof client>): Promise<string> {
    return (await c<{ token: string }>('POST', '/api/tokens')).json.token;
  }
});
