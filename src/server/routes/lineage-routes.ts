/** Lineage of an image: the library images it was made from (by content hash) and those made from it. */
import type { FastifyInstance } from 'fastify';
import { errorSchema, imageIdSchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

const node = {
  type: 'object',
  properties: { id: { type: 'string' }, sha256: { type: 'string' }, prompt: { type: 'string' }, seed: { type: ['number', 'null'] } },
} as const;

export function lineageRoutes(app: FastifyInstance, studio: Studio): void {
  app.get<{ Params: { id: string } }>(
    '/api/images/:id/lineage',
    {
      schema: {
        tags: ['library'],
        summary: 'Parents (the images this one was made from) and children (images made from it), yours only',
        params: { type: 'object', properties: { id: imageIdSchema }, required: ['id'] },
        response: {
          200: { type: 'object', properties: { parents: { type: 'array', items: node }, children: { type: 'array', items: node } } },
          404: errorSchema,
        },
      },
    },
    async (req) => {
      const user = req.user.id;
      const image = studio.library.require(user, req.params.id, { includeDeleted: true });
      const pick = 'SELECT id, sha256, prompt, seed FROM images WHERE user_id = ? AND deleted_at IS NULL';
      const parents = image.parentSha256 ? studio.db.prepare(`${pick} AND sha256 = ? LIMIT 20`).all(user, image.parentSha256) : [];
      const children = studio.db.prepare(`${pick} AND parent_sha256 = ? ORDER BY seq DESC LIMIT 100`).all(user, image.sha256);
      return { parents, children };
    },
  );
}
