/**
 * A board's Yjs document kept in sync with the server over its WebSocket (y-protocols sync messages).
 * Local changes are sent as updates; the server applies them only for owners and editors and answers a
 * viewer's change with a "refused" notice, passed to `onNotice`.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as sync from 'y-protocols/sync';
import type * as Y from 'yjs';
import { token } from './api.ts';

const MESSAGE_SYNC = 0;

export interface BoardNotice {
  type: 'hello' | 'refused';
  role?: string;
  reason?: string;
}

export function connectBoard(boardId: string, doc: Y.Doc, onNotice: (n: BoardNotice) => void, onStatus: (s: string) => void): () => void {
  const t = token();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/boards/${boardId}/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`;
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  const send = (write: (e: encoding.Encoder) => void) => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, MESSAGE_SYNC);
    write(e);
    if (socket.readyState === WebSocket.OPEN) socket.send(encoding.toUint8Array(e));
  };
  const onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== socket) send((e) => sync.writeUpdate(e, update));
  };
  doc.on('update', onUpdate);
  socket.onopen = () => {
    onStatus('connected');
    send((e) => sync.writeSyncStep1(e, doc));
  };
  socket.onclose = (e) => onStatus(e.reason ? `disconnected: ${e.reason}` : 'disconnected');
  socket.onmessage = (event) => {
    if (typeof event.data === 'string') {
      onNotice(JSON.parse(event.data) as BoardNotice);
      return;
    }
    const decoder = decoding.createDecoder(new Uint8Array(event.data as ArrayBuffer));
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return;
    const reply = encoding.createEncoder();
    encoding.writeVarUint(reply, MESSAGE_SYNC);
    sync.readSyncMessage(decoder, reply, doc, socket);
    if (encoding.length(reply) > 1) socket.send(encoding.toUint8Array(reply));
  };
  return () => {
    doc.off('update', onUpdate);
    socket.close();
  };
}
