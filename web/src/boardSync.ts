/**
 * A board's Yjs document and presence kept in sync with the server over its WebSocket (y-protocols sync
 * and awareness messages). Local changes are sent as updates; the server applies them only for owners
 * and editors and answers a viewer's change with a "refused" notice, passed to `onNotice` with the
 * server's other notices (hello, live previews of the board's generations).
 *
 * Offline: when the browser goes offline (or the server goes away) the socket closes, edits go on in
 * the local document, and on reconnecting the sync exchange (each side's step 1 answered by step 2 with
 * what the other lacks) merges both ways.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as sync from 'y-protocols/sync';
import type * as Y from 'yjs';
import { token } from './api.ts';

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const RETRY_MS = 1000;

export interface BoardUser {
  id: string;
  name: string;
  role: string;
  colour: string;
}

export type BoardNotice =
  | { type: 'hello'; role: string; user: BoardUser }
  | { type: 'refused'; reason: string }
  | { type: 'progress'; jobId: string; progress: { step: number; steps: number; preview?: string } };

export interface BoardLink {
  awareness: awarenessProtocol.Awareness;
  close(): void;
}

export function connectBoard(boardId: string, doc: Y.Doc, onNotice: (n: BoardNotice) => void, onStatus: (s: string) => void): BoardLink {
  const awareness = new awarenessProtocol.Awareness(doc);
  let socket: WebSocket | null = null;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | null = null;

  const send = (type: number, write: (e: encoding.Encoder) => void) => {
    if (socket?.readyState !== WebSocket.OPEN) return;
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, type);
    write(e);
    socket.send(encoding.toUint8Array(e));
  };
  const onUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') send(MESSAGE_SYNC, (e) => sync.writeUpdate(e, update));
  };
  const onAwareness = ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
    if (origin === 'remote') return;
    const changed = [...added, ...updated, ...removed];
    send(MESSAGE_AWARENESS, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, changed)));
  };
  doc.on('update', onUpdate);
  awareness.on('update', onAwareness);

  const open = () => {
    if (closed || !navigator.onLine) return;
    const t = token();
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/boards/${boardId}/ws${t ? `?token=${encodeURIComponent(t)}` : ''}`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      onStatus('connected');
      send(MESSAGE_SYNC, (e) => sync.writeSyncStep1(e, doc));
      if (awareness.getLocalState() !== null)
        send(MESSAGE_AWARENESS, (e) => encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID])));
    };
    ws.onclose = (e) => {
      if (socket !== ws) return;
      socket = null;
      // Others' cursors are stale once we cannot hear them.
      awarenessProtocol.removeAwarenessStates(
        awareness,
        [...awareness.getStates().keys()].filter((id) => id !== doc.clientID),
        'remote',
      );
      if (closed) return;
      onStatus(navigator.onLine ? `disconnected${e.reason ? `: ${e.reason}` : ''}; reconnecting` : 'offline; your edits are kept and merge when you are back');
      if (e.code !== 4404 && navigator.onLine) retry = setTimeout(open, RETRY_MS);
    };
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        onNotice(JSON.parse(event.data) as BoardNotice);
        return;
      }
      const decoder = decoding.createDecoder(new Uint8Array(event.data as ArrayBuffer));
      const type = decoding.readVarUint(decoder);
      if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(awareness, decoding.readVarUint8Array(decoder), 'remote');
        return;
      }
      if (type !== MESSAGE_SYNC) return;
      const reply = encoding.createEncoder();
      encoding.writeVarUint(reply, MESSAGE_SYNC);
      sync.readSyncMessage(decoder, reply, doc, 'remote');
      if (encoding.length(reply) > 1) ws.send(encoding.toUint8Array(reply));
    };
  };
  const goOffline = () => socket?.close(1000, 'offline');
  const goOnline = () => {
    if (!socket) open();
  };
  window.addEventListener('offline', goOffline);
  window.addEventListener('online', goOnline);
  open();

  return {
    awareness,
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      window.removeEventListener('offline', goOffline);
      window.removeEventListener('online', goOnline);
      doc.off('update', onUpdate);
      awareness.off('update', onAwareness);
      awareness.destroy();
      socket?.close();
    },
  };
}
