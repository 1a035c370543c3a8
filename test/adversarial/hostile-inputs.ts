/**
 * Hostile inputs for gesso's commands, made on demand in a scratch folder: what an attacker or a
 * clumsy user hands over. The adversarial tests run every file-taking place of every command over
 * `hostileFiles()`; a new command that reads a file should be added to their table.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeflate, deflateSync } from 'node:zlib';
import { encodeChunk, encodeTextChunk } from '../../src/image/png-chunks.ts';
import { writeSafetensors } from '../../src/weights/safetensors.ts';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export function scratch(name: string): string {
  return mkdtempSync(join(tmpdir(), `gesso-hostile-${name}-`));
}

function ihdr(width: number, height: number, colourType: number): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data[8] = 8; // bit depth
  data[9] = colourType; // 0 grey, 2 RGB
  return encodeChunk('IHDR', data);
}

/**
 * A valid PNG of width × height black grey pixels, compressed ~1000:1: 16000 × 16000 is 256 MB of
 * pixels in about 250 KB (as RGB floats, 3 GB). Streamed, so making it takes little memory.
 */
export async function bombPng(path: string, width: number, height: number): Promise<string> {
  const deflate = createDeflate({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const row = Buffer.alloc(width + 1); // filter byte 0 + zero samples
  for (let y = 0; y < height; y++) {
    if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const idat = encodeChunk('IDAT', new Uint8Array(Buffer.concat(parts)));
  writeFileSync(path, Buffer.concat([SIGNATURE, ihdr(width, height, 0), idat, encodeChunk('IEND', new Uint8Array(0))]));
  return path;
}

/** A small real PNG (w × h, grey) with the given text chunks before its pixels. */
export function pngWithText(path: string, texts: { keyword: string; text: string; type?: 'tEXt' | 'iTXt' }[], size = 8): string {
  const raw = Buffer.alloc(size * (size + 1), 0x80);
  for (let y = 0; y < size; y++) raw[y * (size + 1)] = 0;
  const deflated = new Uint8Array(deflateSync(raw));
  const chunks = [
    SIGNATURE,
    ihdr(size, size, 0),
    ...texts.map((t) => encodeTextChunk({ keyword: t.keyword, text: t.text, type: t.type ?? 'tEXt' })),
    encodeChunk('IDAT', deflated),
    encodeChunk('IEND', new Uint8Array(0)),
  ];
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

/** A small PNG whose one iTXt chunk (keyword `Comment`) holds bytes that are not UTF-8, beside a good `parameters` chunk. */
export function badUtf8Png(path: string): string {
  const good = encodeTextChunk({ keyword: 'parameters', text: 'a cat\nSteps: 20, Seed: 1', type: 'tEXt' });
  const bad = encodeChunk('iTXt', new Uint8Array([...Buffer.from('Comment'), 0, 0, 0, 0, 0, 0xff, 0xfe, 0x41]));
  const raw = Buffer.alloc(4 * 5, 0);
  writeFileSync(
    path,
    Buffer.concat([SIGNATURE, ihdr(4, 4, 0), good, bad, encodeChunk('IDAT', new Uint8Array(deflateSync(raw))), encodeChunk('IEND', new Uint8Array(0))]),
  );
  return path;
}

/** A checkpoint-shaped safetensors file whose every value is NaN, claiming `step`. */
export function nanCheckpoint(path: string, tensors: Record<string, readonly number[]>, metadata: Record<string, string>): string {
  const out: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of Object.entries(tensors))
    out[name] = { dtype: 'F32', shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN) };
  writeSafetensors(path, out, metadata);
  return path;
}

/** A FIFO (named pipe): opening it for reading blocks until a writer comes, reading it never ends. */
export function fifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** A sparse file of `bytes` (takes no disk space): stands for "a 1.5 GB file". */
export function hugeFile(path: string, bytes: number): string {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

/** Text that drives a terminal: clear screen, OSC 52 clipboard write, OSC 0 window title, C1 CSI, bell. */
export const TERMINAL_ESCAPES = '\u001b[2J\u001b]52;c;ZXZpbA==\u0007\u001b]0;pwned\u0007\u009b31m\u0007';

/** A prompt of exactly `chars` characters made of real words. */
export function longPrompt(chars: number): string {
  return 'red star, blue circle, '.repeat(Math.ceil(chars / 23)).slice(0, chars);
}

/** The first `keep` bytes of `text` (a write cut short by kill -9). */
export function torn(text: string, keep: number): string {
  return text.slice(0, keep);
}

/**
 * Files that every place taking an input file must refuse quickly with a message, never hang on or
 * read without end. `bomb` is a real decompression bomb.
 */
export async function hostileFiles(dir: string): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const folder = join(dir, 'a-folder.png');
  mkdirSync(folder, { recursive: true });
  return {
    'character device': '/dev/zero',
    FIFO: fifo(join(dir, 'pipe.png')),
    folder,
    '300 MB file': hugeFile(join(dir, 'huge.png'), 300 * 1024 * 1024),
    'missing file': join(dir, 'missing.png'),
    bomb: await bombPng(join(dir, 'bomb.png'), 8192, 8192),
  };
}
