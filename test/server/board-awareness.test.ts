// Presence on a board cannot be forged: the server stamps every awareness state with the sender's real
// identity and colour, drops client ids another connection holds, and keeps "left" (null) states as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import { MEMBER_COLOURS, memberColour, rewriteAwareness } from '../../src/server/collab/board-awareness.ts';

test('a member claiming to be someone else is shown as themselves', () => {
  const doc = new Y.Doc();
  const awareness = new awarenessProtocol.Awareness(doc);
  awareness.setLocalState({ user: { id: 'usr_alice', name: 'alice', role: 'owner' }, cursor: { x: 5, y: 6 } });
  const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]);
  const carol = { id: 'usr_carol', name: 'carol', role: 'viewer', colour: '#1f6fb2' };
  const { update: rewritten, clientIds } = rewriteAwareness(update, carol, new Set());
  assert.deepEqual(clientIds, [doc.clientID]);

  const seen = new awarenessProtocol.Awareness(new Y.Doc());
  awarenessProtocol.applyAwarenessUpdate(seen, rewritten, 'remote');
  const state = seen.getStates().get(doc.clientID) as { user: unknown; cursor: unknown };
  assert.deepEqual(state.user, { id: 'usr_carol', name: 'carol', role: 'viewer', colour: '#1f6fb2' });
  assert.deepEqual(state.cursor, { x: 5, y: 6 });

  // Another connection's client id is not theirs to write.
  assert.deepEqual(rewriteAwareness(update, carol, new Set([doc.clientID])).clientIds, []);
  awareness.destroy();
  seen.destroy();
});

test('member colours: the first free one, distinct for up to eight members', () => {
  const taken: string[] = [];
  for (let i = 0; i < MEMBER_COLOURS.length; i++) taken.push(memberColour(taken));
  assert.equal(new Set(taken).size, MEMBER_COLOURS.length);
  assert.ok(MEMBER_COLOURS.includes(memberColour(taken)), 'a ninth member still gets a palette colour');
});
