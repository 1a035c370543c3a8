/** WebSocket /api/boards/:id/ws: Yjs sync for a shared board (a collection); the member's role decides what they may send. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { collectionIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';
import { BoardDocs } from './board-docs.ts';

export function boardRoutes(app: FastifyInstance, studio: Studio): BoardDocs {
  const boards = new BoardDocs(studio.db);
  app.addHook('onClose', async () => boards.close());
  app.get<{ Params: { id: string } }>(
    '/api/boards/:id/ws',
    {
      websocket: true,
      schema: {
        tags: ['collections'],
        summary: "WebSocket: the board's Yjs document (y-protocols sync); viewers receive, owners and editors also send",
        params: { type: 'object', properties: { id: collectionIdSchema }, required: ['id'] },
      },
    },
    (socket: WebSocket, req: FastifyRequest<{ Params: { id: string } }>) => {
      const boardId = req.params.id;
      let role: ReturnType<Studio['collections']['roleOf']>;
      try {
        role = studio.collections.roleOf(req.user.id, boardId);
      } catch (e) {
        socket.close(4404, e instanceof Error ? e.message.slice(0, 120) : 'board not found');
        return;
      }
      const connection = {
        role,
        send(data: Uint8Array | string) {
          if (socket.readyState === socket.OPEN) socket.send(data);
        },
      };
      socket.send(JSON.stringify({ type: 'hello', role }));
      const leave = boards.join(boardId, connection);
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return;
        try {
          boards.receive(boardId, connection, new Uint8Array(data));
        } catch {
          socket.close(1007, 'malformed sync message');
        }
      });
      socket.on('close', leave);
    },
  );
  return boards;
}
