/**
 * Where job outputs land: a generate, upscale or style job's PNGs go into the owner's library (keyed by job id and batch
 * index, so a job that ran twice is stored once) and the job's result becomes their ids; other kinds
 * keep their output as the result.
 */
import type { JsonValue } from '../../core/json.ts';
import { readImageInfoFromBytes } from '../../image/read-info.ts';
import { describe } from '../../studio/import-image.ts';
import type { Library } from '../../studio/library.ts';
import type { JobRecord, ResultSink } from '../queue/types.ts';
import { generatedPngs } from './generate-job.ts';

export function librarySink(library: Library): ResultSink {
  return async (job: JobRecord, output: JsonValue): Promise<JsonValue> => {
    if (job.kind !== 'generate' && job.kind !== 'upscale' && job.kind !== 'style') return output;
    const ids: string[] = [];
    const seeds: number[] = [];
    for (const image of generatedPngs(output)) {
      const png = new Uint8Array(Buffer.from(image.png, 'base64'));
      const info = await readImageInfoFromBytes(png, `job ${job.id} image ${image.index}`);
      const source = job.payload.initSha256 ?? job.payload.imageSha256;
      const initSha256 = typeof source === 'string' ? source : null;
      const record = await library.add({
        ...describe(info),
        userId: job.userId,
        png,
        width: info.width,
        height: info.height,
        origin: 'generated',
        model: typeof job.payload.model === 'string' ? job.payload.model : null,
        parentSha256: initSha256,
        provenance: { reader: 'gesso', digitalSourceType: info.digitalSourceType ?? null, jobId: job.id },
        job: { id: job.id, index: image.index },
      });
      ids.push(record.id);
      seeds.push(image.seed);
    }
    const warnings = typeof output === 'object' && output !== null && !Array.isArray(output) && Array.isArray(output.warnings) ? output.warnings : [];
    return { imageIds: ids, seeds, warnings };
  };
}
