/**
 * JSON Schemas of the REST API. Fastify validates requests with them and @fastify/swagger builds
 * /openapi.json from them, so the document cannot drift from what the server accepts.
 */
export const imageIdSchema = { type: 'string', pattern: '^img_[0-9a-f]{20}$' } as const;
export const jobIdSchema = { type: 'string', pattern: '^job_[0-9A-Za-z_-]{6,64}$' } as const;
export const collectionIdSchema = { type: 'string', pattern: '^col_[0-9a-f]{16}$' } as const;
export const modelIdSchema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, param: { type: 'string' } },
  required: ['error'],
} as const;

export const imageSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sha256: { type: 'string' },
    width: { type: 'integer' },
    height: { type: 'integer' },
    origin: { type: 'string', enum: ['generated', 'imported'] },
    prompt: { type: 'string' },
    negativePrompt: { type: 'string' },
    model: nullableString,
    modelHash: nullableString,
    sampler: nullableString,
    seed: nullableNumber,
    steps: nullableNumber,
    cfgScale: nullableNumber,
    recipe: { description: "gesso's JSON recipe, as stored" },
    parametersText: { ...nullableString, description: 'A1111 parameters text as found in the file (untrusted text)' },
    provenance: { type: 'object', additionalProperties: true },
    parentSha256: nullableString,
    jobId: nullableString,
    jobIndex: nullableNumber,
    rating: { type: ['integer', 'null'], minimum: 1, maximum: 5 },
    rejected: { type: 'boolean' },
    favourite: { type: 'boolean' },
    note: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'integer' },
    deletedAt: { type: ['integer', 'null'] },
  },
  required: ['id', 'sha256', 'width', 'height', 'prompt', 'rating', 'rejected', 'favourite', 'tags', 'createdAt'],
} as const;

export const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    priority: { type: 'integer' },
    state: { type: 'string', enum: ['queued', 'running', 'done', 'failed', 'cancelled'] },
    result: {},
    error: nullableString,
    attempts: { type: 'integer' },
    progress: { type: ['object', 'null'], additionalProperties: true },
    createdAt: { type: 'integer' },
    startedAt: { type: ['integer', 'null'] },
    finishedAt: { type: ['integer', 'null'] },
  },
  required: ['id', 'kind', 'state'],
} as const;

export const generateParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt'],
  properties: {
    model: { ...modelIdSchema, description: 'model id (GET /api/models); default: the shipped model' },
    prompt: { type: 'string', maxLength: 100000 },
    negativePrompt: { type: 'string', maxLength: 100000 },
    steps: { type: 'integer', minimum: 1, maximum: 1000 },
    cfgScale: { type: 'number', minimum: 0, maximum: 100 },
    scheduler: { type: 'string', maxLength: 100, description: 'diffusers class name or A1111 sampler name' },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
    width: { type: 'integer', minimum: 8, maximum: 4096 },
    height: { type: 'integer', minimum: 8, maximum: 4096 },
    batchSize: { type: 'integer', minimum: 1, maximum: 64 },
    strength: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    eta: { type: 'number', minimum: 0, maximum: 1 },
    upscale: { type: 'boolean' },
    initImageId: { ...imageIdSchema, description: 'img2img/inpainting source from the library (its hash is kept as lineage)' },
    maskImageId: imageIdSchema,
    initImage: { type: 'string', description: 'img2img source as base64 PNG/JPEG/WebP' },
    mask: { type: 'string', description: 'inpainting mask as base64 (white repaints)' },
    loras: {
      type: 'array',
      maxItems: 8,
      description: "LoRAs (GET /api/loras) merged into the model at these weights; a prompt's <lora:name:w> tags are added to them",
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'weight'],
        properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' }, weight: { type: 'number', minimum: -4, maximum: 4 } },
      },
    },
  },
} as const;

export const pageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: 1000, description: 'full-text search over prompt, negative prompt, note and tags' },
    model: { type: 'string', maxLength: 200 },
    sampler: { type: 'string', maxLength: 200 },
    rating: { type: 'integer', minimum: 1, maximum: 5 },
    minRating: { type: 'integer', minimum: 1, maximum: 5 },
    rejected: { type: 'boolean' },
    favourite: { type: 'boolean' },
    tag: { type: 'string', maxLength: 64 },
    collection: collectionIdSchema,
    from: { type: 'integer', minimum: 0, description: 'created at or after (ms since epoch)' },
    to: { type: 'integer', minimum: 0, description: 'created before (ms since epoch)' },
    trash: { type: 'boolean', description: 'list soft-deleted images' },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
    cursor: { type: 'string', pattern: '^\\d{1,15}$' },
  },
} as const;
