/** Library and curation routes: images, ratings, tags, notes, trash, import, collections, comparisons. */
import type { FastifyInstance } from 'fastify';
import { exportCollection } from '../../studio/export.ts';
import { importPng } from '../../studio/import-image.ts';
import { NotFoundError, type ImageQuery } from '../../studio/library.ts';
import { collectionIdSchema, errorSchema, imageIdSchema, imageSchema, pageQuerySchema } from '../schemas.ts';
import type { Studio } from '../studio.ts';

const idParams = { type: 'object', properties: { id: imageIdSchema }, required: ['id'] } as const;
const colParams = { type: 'object', properties: { id: collectionIdSchema }, required: ['id'] } as const;
const colImageParams = { type: 'object', properties: { id: collectionIdSchema, imageId: imageIdSchema }, required: ['id', 'imageId'] } as const;
const one = { 200: imageSchema, 400: errorSchema, 404: errorSchema } as const;
const collectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    ownerId: { type: 'string' },
    role: { type: 'string' },
    size: { type: 'integer' },
    createdAt: { type: 'integer' },
  },
} as const;

type PageQuery = {
  q?: string;
  model?: string;
  sampler?: string;
  rating?: number;
  minRating?: number;
  rejected?: boolean;
  favourite?: boolean;
  tag?: string;
  collection?: string;
  from?: number;
  to?: number;
  trash?: boolean;
  limit?: number;
  cursor?: string;
};

export function libraryRoutes(app: FastifyInstance, studio: Studio): void {
  const { library, collections, comparisons } = studio;

  app.get<{ Querystring: PageQuery }>(
    '/api/images',
    {
      schema: {
        tags: ['library'],
        summary: 'Search and page through your images',
        querystring: pageQuerySchema,
        response: {
          200: { type: 'object', properties: { images: { type: 'array', items: imageSchema }, nextCursor: { type: ['string', 'null'] } } },
          400: errorSchema,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const query: ImageQuery = {};
      if (q.q !== undefined) query.text = q.q;
      if (q.model !== undefined) query.model = q.model;
      if (q.sampler !== undefined) query.sampler = q.sampler;
      if (q.rating !== undefined) query.rating = q.rating;
      if (q.minRating !== undefined) query.minRating = q.minRating;
      if (q.rejected !== undefined) query.rejected = q.rejected;
      if (q.favourite !== undefined) query.favourite = q.favourite;
      if (q.tag !== undefined) query.tag = q.tag;
      if (q.collection !== undefined) query.collectionId = q.collection;
      if (q.from !== undefined) query.from = q.from;
      if (q.to !== undefined) query.to = q.to;
      if (q.trash !== undefined) query.deleted = q.trash;
      if (q.limit !== undefined) query.limit = q.limit;
      if (q.cursor !== undefined) query.cursor = q.cursor;
      return library.search(req.user.id, query);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/images/:id',
    { schema: { tags: ['library'], summary: 'One image with its recipe, lineage and curation', params: idParams, response: one } },
    async (req) => library.require(req.user.id, req.params.id, { includeDeleted: true }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/images/:id/lineage',
    {
      schema: {
        tags: ['library'],
        summary: 'Images this one was made from and images made from it (by content hash)',
        params: idParams,
        response: {
          200: { type: 'object', properties: { parents: { type: 'array', items: imageSchema }, children: { type: 'array', items: imageSchema } } },
          404: errorSchema,
        },
      },
    },
    async (req) => library.lineage(req.user.id, req.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/api/images/:id/png',
    {
      schema: {
        tags: ['library'],
        summary: 'The PNG, with its metadata (export of one image)',
        params: idParams,
        response: { 200: { type: 'string', format: 'binary' }, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const image = library.require(req.user.id, req.params.id);
      const png = await library.store.get(image.sha256);
      return reply
        .type('image/png')
        .header('content-disposition', `attachment; filename="${image.id}.png"`)
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(png));
    },
  );

  app.patch<{ Params: { id: string }; Body: { rating?: number | null; rejected?: boolean; favourite?: boolean; note?: string } }>(
    '/api/images/:id',
    {
      schema: {
        tags: ['library'],
        summary: 'Rate (1–5 or null), reject, favourite or annotate an image',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            rating: { type: ['integer', 'null'], minimum: 1, maximum: 5 },
            rejected: { type: 'boolean' },
            favourite: { type: 'boolean' },
            note: { type: 'string', maxLength: 10000 },
          },
        },
        response: one,
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      const user = req.user.id;
      if (b.rating !== undefined) library.rate(user, id, b.rating);
      if (b.rejected !== undefined) library.setRejected(user, id, b.rejected);
      if (b.favourite !== undefined) library.setFavourite(user, id, b.favourite);
      if (b.note !== undefined) library.setNote(user, id, b.note);
      return library.require(user, id);
    },
  );

  app.post<{ Params: { id: string }; Body: { tags: string[] } }>(
    '/api/images/:id/tags',
    {
      schema: {
        tags: ['library'],
        summary: 'Add tags',
        params: idParams,
        body: {
          type: 'object',
          required: ['tags'],
          additionalProperties: false,
          properties: { tags: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 64 } } },
        },
        response: one,
      },
    },
    async (req) => library.addTags(req.user.id, req.params.id, req.body.tags),
  );

  app.delete<{ Params: { id: string; tag: string } }>(
    '/api/images/:id/tags/:tag',
    {
      schema: {
        tags: ['library'],
        summary: 'Remove a tag',
        params: { type: 'object', properties: { id: imageIdSchema, tag: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id', 'tag'] },
        response: one,
      },
    },
    async (req) => library.removeTag(req.user.id, req.params.id, req.params.tag),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/images/:id',
    { schema: { tags: ['library'], summary: 'Move an image to the trash (soft delete)', params: idParams, response: one } },
    async (req) => library.softDelete(req.user.id, req.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/api/images/:id/restore',
    { schema: { tags: ['library'], summary: 'Restore an image from the trash', params: idParams, response: one } },
    async (req) => library.restore(req.user.id, req.params.id),
  );

  app.post<{ Querystring: { fileName?: string } }>(
    '/api/images/import',
    {
      schema: {
        tags: ['library'],
        summary: 'Import a PNG (body: the file, Content-Type image/png); A1111, ComfyUI and gesso metadata are read',
        querystring: { type: 'object', additionalProperties: false, properties: { fileName: { type: 'string', maxLength: 255 } } },
        response: { 201: imageSchema, 400: errorSchema, 413: errorSchema },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (!Buffer.isBuffer(body)) return reply.status(400).send({ error: 'send the PNG as the request body with Content-Type: image/png' });
      const image = await importPng(library, req.user.id, new Uint8Array(body), {
        ...(req.query.fileName !== undefined ? { fileName: req.query.fileName } : {}),
        limits: studio.limits,
      });
      return reply.status(201).send(image);
    },
  );

  // Comparisons (A/B): training data for the taste model.
  app.post<{ Body: { a: string; b: string; winner: 'a' | 'b' | 'tie' } }>(
    '/api/comparisons',
    {
      schema: {
        tags: ['curation'],
        summary: 'Record which of two images you preferred',
        body: {
          type: 'object',
          required: ['a', 'b', 'winner'],
          additionalProperties: false,
          properties: { a: imageIdSchema, b: imageIdSchema, winner: { type: 'string', enum: ['a', 'b', 'tie'] } },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              aId: { type: 'string' },
              bId: { type: 'string' },
              winner: { type: 'string' },
              createdAt: { type: 'integer' },
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (req, reply) => reply.status(201).send(comparisons.record(req.user.id, req.body.a, req.body.b, req.body.winner)),
  );
  app.get('/api/comparisons', { schema: { tags: ['curation'], summary: 'Your recorded comparisons, newest first' } }, async (req) => ({
    comparisons: comparisons.list(req.user.id),
  }));

  // Collections (boards), shareable with roles.
  app.post<{ Body: { name: string } }>(
    '/api/collections',
    {
      schema: {
        tags: ['collections'],
        summary: 'Create a collection',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 201: collectionSchema, 400: errorSchema },
      },
    },
    async (req, reply) => reply.status(201).send(collections.create(req.user.id, req.body.name)),
  );
  app.get('/api/collections', { schema: { tags: ['collections'], summary: 'Collections you own or were given a role on' } }, async (req) => ({
    collections: collections.list(req.user.id),
  }));
  app.get<{ Params: { id: string } }>(
    '/api/collections/:id',
    { schema: { tags: ['collections'], params: colParams, response: { 200: collectionSchema, 404: errorSchema } } },
    async (req) => collections.get(req.user.id, req.params.id),
  );
  app.get<{ Params: { id: string } }>(
    '/api/collections/:id/images',
    {
      schema: {
        tags: ['collections'],
        summary: "A collection's images (a shared board shows every member's)",
        params: colParams,
        response: { 200: { type: 'object', properties: { images: { type: 'array', items: imageSchema } } }, 404: errorSchema },
      },
    },
    async (req) => ({ images: collections.items(req.user.id, req.params.id) }),
  );
  app.get<{ Params: { id: string; imageId: string } }>(
    '/api/collections/:id/images/:imageId/png',
    { schema: { tags: ['collections'], summary: 'The PNG of an image on a board you have a role on', params: colImageParams } },
    async (req, reply) => {
      const image = collections.imageVia(req.user.id, req.params.id, req.params.imageId);
      return reply
        .type('image/png')
        .header('x-content-type-options', 'nosniff')
        .send(Buffer.from(await library.store.get(image.sha256)));
    },
  );
  app.post<{ Params: { id: string }; Body: { imageId: string } }>(
    '/api/collections/:id/items',
    {
      schema: {
        tags: ['collections'],
        summary: 'Add one of your images (owner or editor)',
        params: colParams,
        body: { type: 'object', required: ['imageId'], additionalProperties: false, properties: { imageId: imageIdSchema } },
        response: { 200: collectionSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req) => collections.add(req.user.id, req.params.id, req.body.imageId),
  );
  app.delete<{ Params: { id: string; imageId: string } }>(
    '/api/collections/:id/items/:imageId',
    {
      schema: {
        tags: ['collections'],
        summary: 'Remove an image (owner or editor)',
        params: colImageParams,
        response: { 200: collectionSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req) => collections.remove(req.user.id, req.params.id, req.params.imageId),
  );
  app.put<{ Params: { id: string }; Body: { user: string; role: 'editor' | 'viewer' | null } }>(
    '/api/collections/:id/members',
    {
      schema: {
        tags: ['collections'],
        summary: 'Owner: give a user a role on the board (null removes it)',
        params: colParams,
        body: {
          type: 'object',
          required: ['user', 'role'],
          additionalProperties: false,
          properties: { user: { type: 'string', maxLength: 64 }, role: { type: ['string', 'null'], enum: ['editor', 'viewer', null] } },
        },
        response: { 200: collectionSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const member = studio.users.byName(req.body.user);
      if (!member) throw new NotFoundError(`user ${JSON.stringify(req.body.user)} not found`);
      return collections.share(req.user.id, req.params.id, member.id, req.body.role);
    },
  );
  app.get<{ Params: { id: string } }>(
    '/api/collections/:id/export',
    { schema: { tags: ['collections'], summary: 'Export as a tar of PNGs (with their metadata) plus metadata.json', params: colParams } },
    async (req, reply) => {
      const tar = await exportCollection(library, collections, req.user.id, req.params.id);
      return reply.type('application/x-tar').header('content-disposition', `attachment; filename="${req.params.id}.tar"`).send(tar);
    },
  );
}
