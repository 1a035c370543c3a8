/**
 * Shared boards as Yjs documents, one per collection, synced with y-protocols' sync messages and
 * persisted in SQLite as the list of updates (replayed on load, so a board survives restarts). The
 * server decides what a member may send: owners and editors may change the document; a viewer's
 * updates are dropped here, never applied nor stored nor forwarded, and the viewer is told.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as sync from 'y-protocols/sync';
import * as Y from 'yjs';
import type { BoardRole } from '../../studio/collections.ts';
import type { Db } from '../../studio/database.ts';

/** The first varint of each binary message, as y-websocket uses it. */
export const MESSAGE_SYNC = 0;

export interface BoardConnection {
  role: BoardRole;
  /** Sends a binary sync message, or a text notice (JSON) such as a refused edit. */
  send(data: Uint8Array | string): void;
}

interface OpenBoard {
  doc: Y.Doc;
  connections: Set<BoardConnection>;
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
    const opened: OpenBoard = { doc, connections: new Set() };
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
    this.open.set(boardId, opened);
    return opened;
  }

  /** A member joins: they get the server's state vector (sync step 1) and then every change. */
  join(boardId: string, connection: BoardConnection): () => void {
    const board = this.board(boardId);
    board.connections.add(connection);
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    sync.writeSyncStep1(encoder, board.doc);
    connection.send(encoding.toUint8Array(encoder));
    return () => board.connections.delete(connection);
  }

  /** One binary message from a member. Viewers may ask for the document (step 1) but not change it. */
  receive(boardId: string, connection: BoardConnection, message: Uint8Array): void {
    const board = this.board(boardId);
    const decoder = decoding.createDecoder(message);
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return; // awareness and others: not handled yet
    const kind = decoding.peekVarUint(decoder);
    if (kind !== sync.messageYjsSyncStep1 && connection.role === 'viewer') {
      connection.send(JSON.stringify({ type: 'refused', reason: 'you are a viewer on this board: your change was not applied' }));
      return;
    }
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    sync.readSyncMessage(decoder, encoder, board.doc, connection);
    if (encoding.length(encoder) > 1) connection.send(encoding.toUint8Array(encoder));
  }

  close(): void {
    for (const board of this.open.values()) board.doc.destroy();
    this.open.clear();
  }
}
