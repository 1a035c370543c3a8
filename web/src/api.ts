/** The server's REST API as the studio uses it. Errors carry the server's message and the field at fault. */

export interface ImageRecord {
  id: string;
  sha256: string;
  width: number;
  height: number;
  origin?: 'generated' | 'imported';
  prompt: string;
  negativePrompt?: string;
  model?: string | null;
  sampler?: string | null;
  seed?: number | null;
  steps?: number | null;
  cfgScale?: number | null;
  recipe?: unknown;
  parametersText?: string | null;
  parentSha256?: string | null;
  jobId?: string | null;
  rating: number | null;
  rejected: boolean;
  favourite: boolean;
  note?: string;
  tags: string[];
  createdAt: number;
}

export interface JobProgress {
  step: number;
  steps: number;
  etaMs: number;
  preview?: string;
  /** Training: the newest losses. */
  metrics?: Record<string, number>;
  /** Training: the newest sample grid's step. */
  sample?: number;
}

export interface Job {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  result?: { imageIds?: string[]; seeds?: number[]; warnings?: string[] } | null;
  error?: string | null;
  progress?: JobProgress | null;
}

/** A LoRA chosen for a generation, merged into the model at `weight`. */
export interface LoraWeight {
  name: string;
  weight: number;
}

/** A LoRA file the server offers (GET /api/loras). */
export interface LoraInfo {
  name: string;
  bytes: number;
  baseModel: string | null;
  steps: number | null;
}

export interface GenerateParams {
  prompt: string;
  negativePrompt?: string;
  model?: string;
  scheduler?: string;
  steps?: number;
  cfgScale?: number;
  seed?: number;
  width?: number;
  height?: number;
  batchSize?: number;
  initImageId?: string;
  strength?: number;
  loras?: LoraWeight[];
  /** Inpainting: the painted mask as a PNG data URL (white repaints). */
  mask?: string;
}

export interface LineageNode {
  id: string;
  sha256: string;
  prompt: string;
  seed: number | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null,
  ) {
    super(message);
  }
}

/** An API token (only needed when the server runs with --listen), kept in this browser. */
export function token(): string | null {
  return localStorage.getItem('gesso.token');
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'the gesso server cannot be reached: is `gesso serve` running?', null);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = (json ?? {}) as { error?: string; param?: string };
    throw new ApiError(res.status, e.error ?? `${method} ${path}: HTTP ${res.status}`, e.param ?? null);
  }
  return json as T;
}

export const imageUrl = (id: string): string => `/api/images/${id}/png`;

export interface ImageFilter {
  q?: string;
  minRating?: number;
  favourite?: boolean;
  tag?: string;
}

export function searchImages(filter: ImageFilter, cursor: string | null, limit = 200): Promise<{ images: ImageRecord[]; nextCursor: string | null }> {
  const p = new URLSearchParams({ limit: String(limit) });
  if (filter.q) p.set('q', filter.q);
  if (filter.minRating) p.set('minRating', String(filter.minRating));
  if (filter.favourite) p.set('favourite', 'true');
  if (filter.tag) p.set('tag', filter.tag);
  if (cursor) p.set('cursor', cursor);
  return api('GET', `/api/images?${p}`);
}

export const getImage = (id: string) => api<ImageRecord>('GET', `/api/images/${id}`);
export const patchImage = (id: string, body: { rating?: number | null; favourite?: boolean; rejected?: boolean; note?: string }) =>
  api<ImageRecord>('PATCH', `/api/images/${id}`, body);
export const addTags = (id: string, tags: string[]) => api<ImageRecord>('POST', `/api/images/${id}/tags`, { tags });
export const removeTag = (id: string, tag: string) => api<ImageRecord>('DELETE', `/api/images/${id}/tags/${encodeURIComponent(tag)}`);
export const compare = (a: string, b: string, winner: 'a' | 'b' | 'tie') => api<{ id: number }>('POST', '/api/comparisons', { a, b, winner });
export const generate = (params: GenerateParams) => api<Job>('POST', '/api/generate', params);
export const cancelJob = (id: string) => api<Job>('POST', `/api/jobs/${id}/cancel`);
export const lineage = (id: string) => api<{ parents: LineageNode[]; children: LineageNode[] }>('GET', `/api/images/${id}/lineage`);
export const models = () => api<{ default: string; models: { id: string }[] }>('GET', '/api/models');
export const loras = () => api<{ loras: LoraInfo[] }>('GET', '/api/loras');
export const samplers = () => api<{ name: string }[]>('GET', '/sdapi/v1/samplers');

/** Follows one job's events (SSE) until it ends; returns a function that stops listening. */
export function watchJob(id: string, onProgress: (p: JobProgress) => void, onState: (job: Job) => void): () => void {
  const source = new EventSource(`/api/jobs/${id}/events`);
  source.addEventListener('progress', (e) => onProgress((JSON.parse((e as MessageEvent<string>).data) as { progress: JobProgress }).progress));
  source.addEventListener('state', (e) => {
    const job = (JSON.parse((e as MessageEvent<string>).data) as { job: Job }).job;
    onState(job);
    if (job.state === 'done' || job.state === 'failed' || job.state === 'cancelled') source.close();
  });
  return () => source.close();
}

// Explore, Style, Train and Models pages.

/** A GAN latent spec (src/pipelines/gan-explore.ts), or a diffusion image's { noise, prompt }. */
export type LatentSpec = { op: string } & Record<string, unknown>;

export interface ExploredImage {
  /** base64 PNG with its explore recipe. */
  png: string;
  spec: LatentSpec;
  label: string;
}

export interface ExploreResult {
  kind: 'gan' | 'diffusion';
  width: number;
  height: number;
  images: ExploredImage[];
  animation: { format: 'webp' | 'gif'; data: string } | null;
}

export type ExploreRequest = { model: string; mode: string } & Record<string, unknown>;

export interface ModelCard {
  id: string;
  kind: 'diffusion' | 'gan' | 'style-adain' | 'style-fast';
  card: string | null;
  metrics: Record<string, unknown> | null;
  training: Record<string, unknown> | null;
  licences: Record<string, number> | string | null;
  pictures: string[];
  genes: string[];
  sizeBytes: number;
}

export interface Dataset {
  id: string;
  files: number;
  licences: { byLicence: Record<string, number>; open: number; restrictive: number; unknown: number };
  flagged: boolean;
  decision: 'include' | 'exclude' | null;
  cleared: boolean;
}

export interface TrainRun {
  id: string;
  type: 'gan' | 'style' | 'finetune';
  name: string;
  dataset: string;
  settings: Record<string, unknown>;
  createdAt: number;
  jobId: string | null;
  state: Job['state'];
  error: string | null;
  step: number;
  steps: number;
}

export type LossPoint = { step: number } & Record<string, number>;

export const explore = (body: ExploreRequest) => api<Job>('POST', '/api/explore', body);
export const modelCatalog = () => api<{ default: string; models: ModelCard[] }>('GET', '/api/models/catalog');
export const modelPictureUrl = (id: string, name: string) => `/api/models/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;
export const stylize = (body: {
  method: string;
  contentImageId: string;
  styleImageId?: string;
  model?: string;
  strength?: number;
  size?: number;
  iterations?: number;
}) => api<Job>('POST', '/api/style', body);
export const getJob = (id: string) => api<Job>('GET', `/api/jobs/${id}`);
export const datasets = () => api<{ registered: Dataset[]; available: string[] }>('GET', '/api/datasets');
export const registerDataset = (id: string) => api<Dataset>('POST', '/api/datasets', { id });
export const trainRuns = () => api<{ runs: TrainRun[] }>('GET', '/api/train/runs');
export const trainRun = (id: string) => api<TrainRun & { history: LossPoint[]; samples: number[] }>('GET', `/api/train/runs/${id}`);
export const startTraining = (body: Record<string, unknown>) => api<{ run: TrainRun; job: Job }>('POST', '/api/train/runs', body);
export const stopTraining = (id: string) => api<TrainRun>('POST', `/api/train/runs/${id}/stop`);
export const resumeTraining = (id: string) => api<{ run: TrainRun; job: Job }>('POST', `/api/train/runs/${id}/resume`);
export const sampleUrl = (runId: string, step: number) => `/api/train/runs/${runId}/samples/${step}`;

/** Puts PNG bytes (base64, or a File) into the library; its gesso / A1111 metadata is read by the server. */
export async function importImage(png: string | Blob, fileName: string): Promise<ImageRecord> {
  const body = typeof png === 'string' ? Uint8Array.from(atob(png), (c) => c.charCodeAt(0)) : png;
  const headers: Record<string, string> = { 'content-type': 'image/png' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  const res = await fetch(`/api/images/import?fileName=${encodeURIComponent(fileName)}`, { method: 'POST', headers, body });
  const json = (await res.json().catch(() => ({}))) as ImageRecord & { error?: string; param?: string };
  if (!res.ok) throw new ApiError(res.status, json.error ?? `import: HTTP ${res.status}`, json.param ?? null);
  return json;
}

/** Waits for a job to end, reporting progress; resolves with the finished job (failed and cancelled too). */
export function runJob(job: Job, onProgress: (p: JobProgress) => void, onStop?: (stop: () => void) => void): Promise<Job> {
  return new Promise((resolve) => {
    const stop = watchJob(job.id, onProgress, (j) => {
      if (j.state === 'done' || j.state === 'failed' || j.state === 'cancelled') resolve(j);
    });
    onStop?.(stop);
  });
}
