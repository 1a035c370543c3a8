import { existsSync, readFileSync } from 'node:fs';
import { InputError } from './errors.ts';

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

/** Reads and parses a JSON file; a missing or unreadable file or bad JSON is an InputError naming it. */
export function readJsonFile(path: string, label = path, expected = 'JSON'): JsonValue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${label} does not exist (${path})` : `cannot read ${label}: ${(e as Error).message}`);
  }
  return parseJson(text, label, expected);
}

/** A JSON file that must hold an object; with `optional`, null when the file does not exist. */
export function readJsonObjectFile(path: string, label: string, options: { optional: true }): JsonObject | null;
export function readJsonObjectFile(path: string, label?: string, options?: { optional?: false }): JsonObject;
export function readJsonObjectFile(path: string, label = path, options: { optional?: boolean } = {}): JsonObject | null {
  if (options.optional && !existsSync(path)) return null;
  const value = readJsonFile(path, label, 'a JSON object');
  if (!isJsonObject(value)) throw new InputError(`${label}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  return value;
}
