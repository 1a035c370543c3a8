/**
 * Untrusted text (image metadata, file names, prompts) made safe to print to a terminal. Control
 * characters drive terminals: ESC[2J clears the screen, OSC 52 writes the clipboard, OSC 0 retitles the
 * window, C1 CSI (U+009B) does what ESC[ does, and bidi overrides make text read differently from what it
 * is. Each is shown as a visible escape (\x1b, \u009b) instead; newlines and tabs stay.
 */

// C0 except \t and \n, DEL, C1, and the Unicode bidi embedding/override/isolate controls.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every terminal control character replaced by a visible escape. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** JSON text with the controls JSON.stringify leaves raw (DEL, C1, bidi) written as \uXXXX: still valid JSON, inert in a terminal. */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
