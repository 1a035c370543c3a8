/** Number flags of every `gesso` command, parsed one way: errors name the flag, its text and what is accepted. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../core/errors.ts';

export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
}

function expected(rule: NumberRule): string {
  const kind = rule.integer ? 'a whole number' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} >= ${rule.min}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  return kind;
}

/** The number `text` gives for `flag`, checked against `rule`. */
export function numberFlag(flag: string, text: string, rule: NumberRule = {}): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new InputError(`${flag} "${text}" is not a number; expected ${expected(rule)}`);
  const outside = (rule.integer && !Number.isInteger(value)) || (rule.min !== undefined && value < rule.min) || (rule.max !== undefined && value > rule.max);
  if (outside) throw new InputError(`${flag} "${text}": expected ${expected(rule)}`);
  return value;
}

/** numberFlag for a flag that may be absent: `fallback` then. */
export function optionalNumberFlag(flag: string, text: string | undefined, rule: NumberRule = {}, fallback?: number): number | undefined {
  return text === undefined ? fallback : numberFlag(flag, text, rule);
}

/** node:util parseArgs for `gesso <command>`: a bad flag is an InputError that names the command and its --help. */
export function parseFlags<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new InputError(`gesso ${command}: ${(err as Error).message} (see gesso ${command} --help)`);
  }
}
