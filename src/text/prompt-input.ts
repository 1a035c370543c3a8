/**
 * Prompts too long for a command line come from a file (`--prompt-file FILE`) or standard input (the
 * prompt `-`), read with the same caps as every other file gesso reads.
 */
import { InputError } from '../core/errors.ts';
import { FILE_LIMITS, readTextFile } from '../core/safe-read.ts';

/** The text of a prompt file: UTF-8, one trailing newline dropped (editors add one). */
export function readPromptFile(path: string): string {
  return dropFinalNewline(readTextFile(path, 'prompt file', FILE_LIMITS.prompt));
}

/** Standard input as a prompt, refused past the prompt-file cap. */
export async function readPromptStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    bytes += buffer.length;
    if (bytes > FILE_LIMITS.prompt) throw new InputError(`the prompt on standard input passed ${FILE_LIMITS.prompt} bytes; gesso reads at most that`);
    chunks.push(buffer);
  }
  return dropFinalNewline(Buffer.concat(chunks).toString('utf8'));
}

function dropFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
