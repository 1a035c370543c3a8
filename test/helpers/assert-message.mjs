// Preloaded by scripts/run-tests.mjs (node --import). A failing `assert.ok(value)` without a message makes
// Node build one by re-reading and parsing the caller's source line; under tsx's loader that position is
// in the compiled file, whose code is one long line, and the parse retries take minutes of 100% CPU on
// the main thread (nodejs/node#52677, #52962). In a test that runs a server in-process this froze the
// server as well: requests timed out and finished child processes stayed zombies. The message is given
// here instead: the call site (stack traces are source-mapped) and the value.
import assert from 'node:assert/strict';

const ok = assert.ok;
assert.ok = function okWithCallSite(value, message) {
  if (value || message !== undefined) return ok(value, message);
  const site = new Error().stack?.split('\n')[2]?.trim() ?? 'an unknown call site';
  return ok(value, `assert.ok failed ${site}: the value is ${String(value)}`);
};
