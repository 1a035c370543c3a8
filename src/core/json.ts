import { existsSync } from 'node:fs';
import { InputError } from './errors.ts';
import { readTextFile } from './safe-read.ts';

/** JSON as JSON.parse returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The parsed text, or undefined when it is not JSON. */
export function tryParseJson(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

/** Parses `text` read from `label` (a file name, for the message); bad JSON is the user's InputError. */
export function parseJson(text: string, label: string, expected = 'JSON'): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    throw new InputError(`${label} is not valid JSON (${(e as Error).message}); expected ${expected}`);
  }
}

/**
 * Reads and parses a JSON file. `what` names the kind of file in messages ("scheduler config"); a missing,
 * special or oversized file, or bad JSON, is an InputError naming it and the path.
 */
export function readJsonFile(path: string, what = 'JSON file', expected = 'JSON'): JsonValue {
  // A regular file within the config size cap: never /dev/zero, a FIFO or a 2 GB file read whole.
  return parseJson(readTextFile(path, what), `${what} ${JSON.stringify(path)}`, expected);
}

/** A JSON file that must hold an object; with `optional`, null when the file does not exist. */
export function readJsonObjectFile(path: string, what: string, options: { optional: true }): JsonObject | null;
export function readJsonObjectFile(path: string, what?: string, options?: { optional?: false }): JsonObject;
export function readJsonObjectFile(path: string, what = 'JSON file', options: { optional?: boolean } = {}): JsonObject | null {
  if (options.optional && !existsSync(path)) return null;
  const value = readJsonFile(path, what, 'a JSON object');
  if (!isJsonObject(value))
    throw new InputError(`${what} ${JSON.stringify(path)}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}
