/**
 * WebSocket /api/boards/:id/ws: Yjs sync and presence for a shared board (a collection); the member's
 * role decides what they may send. POST /api/boards/:id/generate: a generation every member sees.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { GenerateParams } from '../generate-service.ts';
import { collectionIdSchema, errorSchema, generateParamsSchema, jobSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';
import { type BoardConnection, BoardDocs } from './board-docs.ts';
import { BoardGenerations } from './board-generations.ts';

const idParams = { type: 'object', properties: { id: collectionIdSchema }, required: ['id'] } as const;

export function boardRoutes(app: FastifyInstance, studio: Studio): BoardDocs {
  const boards = new BoardDocs(studio.db);
  const generations = new BoardGenerations(studio, boards);
  app.addHook('onClose', async () => {
    generations.close();
    boards.close();
  });
  app.get<{ Params: { id: string } }>(
    '/api/boards/:id/ws',
    {
      websocket: true,
      schema: {
        tags: ['collections'],
        summary:
          "WebSocket: the board's Yjs document (y-protocols sync) and members' presence (awareness); viewers receive and send presence, owners and editors also change the document",
        params: idParams,
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
      const member: BoardConnection['member'] = { id: req.user.id, name: req.user.name, role };
      const connection: BoardConnection = {
        role,
        member,
        send(data: Uint8Array | string) {
          if (socket.readyState === socket.OPEN) socket.send(data);
        },
      };
      const leave = boards.join(boardId, connection); // gives the member their colour
      socket.send(JSON.stringify({ type: 'hello', role, user: member }));
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

  app.post<{ Params: { id: string }; Body: GenerateParams }>(
    '/api/boards/:id/generate',
    {
      schema: {
        tags: ['collections'],
        summary: 'Queue a generation for a board (owners and editors): every member sees it, its live previews and its images on the board',
        params: idParams,
        body: generateParamsSchema,
        response: { 202: jobSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => reply.status(202).send(await generations.start(req.params.id, req.user, req.body)),
  );
  return boards;
}
