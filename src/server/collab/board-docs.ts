/**
 * Shared boards as Yjs documents, one per collection, synced with y-protocols' sync messages and
 * persisted in SQLite as the list of updates (replayed on load, so a board survives restarts). The
 * server decides what a member may send: owners and editors may change the document; a viewer's
 * updates are dropped here, never applied nor stored nor forwarded, and the viewer is told. Presence
 * (cursors, selections) travels as y-protocols awareness messages, which every member may send.
 *
 * The document's shape (the web app's Board page and the server agree on it; see docs/studio/boards.md):
 * - `items`: Y.Array of placed images { imageId, prompt, by, x, y };
 * - `drafts`: Y.Array of Y.Text, shared prompt drafts;
 * - `votes`: Y.Map member id → { imageId, name }: one vote per member, and the server refuses an update
 *   that writes any other member's key;
 * - `generations`: Y.Map job id → { prompt, by, state, imageIds }, written by the server only.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as sync from 'y-protocols/sync';
import * as Y from 'yjs';
import type { BoardRole } from '../../studio/collections.ts';
import type { Db } from '../../studio/database.ts';
import { type BoardMember, memberColour, rewriteAwareness } from './board-awareness.ts';

/** The first varint of each binary message, as y-websocket uses it. */
export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;

/** What the server itself writes into a document (members' changes carry their connection as origin). */
export const SERVER_ORIGIN = 'server';

export interface BoardConnection {
  role: BoardRole;
  member: BoardMember;
  /** Sends a binary sync message, or a text notice (JSON) such as a refused edit. */
  send(data: Uint8Array | string): void;
}

interface OpenBoard {
  doc: Y.Doc;
  awareness: awarenessProtocol.Awareness;
  connections: Set<BoardConnection>;
  /** Awareness client ids each connection has announced (removed when it leaves). */
  clientIds: Map<BoardConnection, Set<number>>;
}

export class BoardDocs {
  private readonly open = new Map<string, OpenBoard>();

  constructor(private readonly db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS board_updates (
      seq INTEGER PRIMARY KEY,
      board_id TEXT NOT NULL,
      data BLOB NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS board_updates_board ON board_updates (board_id, seq);`);
  }

  /** The board's document, loaded from its stored updates on first use. */
  doc(boardId: string): Y.Doc {
    return this.board(boardId).doc;
  }

  private board(boardId: string): OpenBoard {
    const board = this.open.get(boardId);
    if (board) return board;
    const doc = new Y.Doc();
    const rows = this.db.prepare('SELECT data FROM board_updates WHERE board_id = ? ORDER BY seq').all(boardId) as { data: Buffer }[];
    for (const row of rows) Y.applyUpdate(doc, new Uint8Array(row.data), 'storage');
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState(null); // the server has no cursor
    const opened: OpenBoard = { doc, awareness, connections: new Set(), clientIds: new Map() };
    const insert = this.db.prepare('INSERT INTO board_updates (board_id, data, created_at) VALUES (?, ?, ?)');
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'storage') return;
      insert.run(boardId, Buffer.from(update), Date.now()); // stored before anyone else sees it
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      sync.writeUpdate(encoder, update);
      const message = encoding.toUint8Array(encoder);
      for (const c of opened.connections) if (c !== origin) c.send(message);
    });
    awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const changed = [...added, ...updated, ...removed];
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, changed));
      const message = encoding.toUint8Array(encoder);
      for (const c of opened.connections) if (c !== origin) c.send(message);
    });
    this.open.set(boardId, opened);
    return opened;
  }

  /**
   * A member joins: they get a colour (the one they already have on this board if connected elsewhere,
   * else one no present member has), the server's state vector (sync step 1), everyone's presence, then
   * every change.
   */
  join(boardId: string, connection: BoardConnection): () => void {
    const board = this.board(boardId);
    const members = [...board.connections].map((c) => c.member);
    connection.member.colour = members.find((m) => m.id === connection.member.id)?.colour ?? memberColour(members.map((m) => m.colour ?? ''));
    board.connections.add(connection);
    board.clientIds.set(connection, new Set());
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    sync.writeSyncStep1(encoder, board.doc);
    connection.send(encoding.toUint8Array(encoder));
    const present = [...board.awareness.getStates().keys()];
    if (present.length > 0) {
      const presence = encoding.createEncoder();
      encoding.writeVarUint(presence, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(presence, awarenessProtocol.encodeAwarenessUpdate(board.awareness, present));
      connection.send(encoding.toUint8Array(presence));
    }
    return () => {
      board.connections.delete(connection);
      const ids = board.clientIds.get(connection);
      board.clientIds.delete(connection);
      if (ids && ids.size > 0) awarenessProtocol.removeAwarenessStates(board.awareness, [...ids], null);
    };
  }

  /** One binary message from a member. Viewers may ask for the document (step 1) and send presence, but not change it. */
  receive(boardId: string, connection: BoardConnection, message: Uint8Array): void {
    const board = this.board(boardId);
    const decoder = decoding.createDecoder(message);
    const type = decoding.readVarUint(decoder);
    if (type === MESSAGE_AWARENESS) {
      this.receiveAwareness(board, connection, decoding.readVarUint8Array(decoder));
      return;
    }
    if (type !== MESSAGE_SYNC) return;
    const kind = decoding.readVarUint(decoder);
    if (kind === sync.messageYjsSyncStep1) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      sync.readSyncStep1(decoder, encoder, board.doc);
      connection.send(encoding.toUint8Array(encoder));
      return;
    }
    if (kind !== sync.messageYjsSyncStep2 && kind !== sync.messageYjsUpdate) return;
    const update = decoding.readVarUint8Array(decoder);
    if (isEmptyUpdate(update)) return; // a member with nothing new answers step 1 with an empty step 2
    const refusal =
      connection.role === 'viewer' ? 'you are a viewer on this board: your change was not applied' : refusedVotes(board.doc, update, connection.member);
    if (refusal) {
      connection.send(JSON.stringify({ type: 'refused', reason: refusal }));
      return;
    }
    Y.applyUpdate(board.doc, update, connection);
  }

  private receiveAwareness(board: OpenBoard, connection: BoardConnection, update: Uint8Array): void {
    const owned = board.clientIds.get(connection);
    if (!owned) return;
    const taken = new Set<number>();
    for (const [c, ids] of board.clientIds) if (c !== connection) for (const id of ids) taken.add(id);
    const { update: rewritten, clientIds } = rewriteAwareness(update, connection.member, taken);
    for (const id of clientIds) owned.add(id);
    if (clientIds.length > 0) awarenessProtocol.applyAwarenessUpdate(board.awareness, rewritten, connection);
  }

  /** Changes the server makes itself (e.g. a board generation's state), sent to every member and stored. */
  change(boardId: string, edit: (doc: Y.Doc) => void): void {
    const { doc } = this.board(boardId);
    doc.transact(() => edit(doc), SERVER_ORIGIN);
  }

  /** A text notice (JSON) to every member of an open board, e.g. a generation's live preview. */
  notify(boardId: string, notice: Record<string, unknown>): void {
    const board = this.open.get(boardId);
    if (!board) return;
    const text = JSON.stringify(notice);
    for (const c of board.connections) c.send(text);
  }

  close(): void {
    for (const board of this.open.values()) {
      board.awareness.destroy();
      board.doc.destroy();
    }
    this.open.clear();
  }
}

function isEmptyUpdate(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update);
  return structs.length === 0 && ds.clients.size === 0;
}

/**
 * One vote per member: `votes` is keyed by member id, and a member may write only their own key. The
 * update is tried on a copy of the document first; the reason for refusing it, or null.
 */
function refusedVotes(doc: Y.Doc, update: Uint8Array, member: BoardMember): string | null {
  const probe = new Y.Doc({ gc: false });
  try {
    Y.applyUpdate(probe, Y.encodeStateAsUpdate(doc));
    let foreign: string | null = null;
    probe.getMap('votes').observe((event) => {
      for (const key of event.keysChanged) if (key !== member.id) foreign = key;
    });
    Y.applyUpdate(probe, update);
    if (foreign !== null) return `a member may only cast their own vote: your change writes member ${JSON.stringify(foreign)}'s vote`;
    const vote = probe.getMap('votes').get(member.id) as { imageId?: unknown; name?: unknown } | undefined;
    if (vote !== undefined && (typeof vote.imageId !== 'string' || vote.name !== member.name))
      return `a vote is { imageId, name } with your own name (${JSON.stringify(member.name)}); got ${JSON.stringify(vote).slice(0, 100)}`;
    return null;
  } finally {
    probe.destroy();
  }
}
