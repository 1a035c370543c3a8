/**
 * Generate: the recipe form with the shared job controls (run, cancel, progress, status, error), live
 * previews while the job runs (every few steps, in a box of fixed size so nothing shifts), and the
 * finished images, which are already in the library. It watches its job itself (not useJob): it shows
 * each state change as it comes (queued, running) and keeps the latest preview.
 */
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { cancelJob, type GenerateParams, generate, imageUrl, type Job, type JobProgress, models, samplers, watchJob } from '../api.ts';
import { errorText } from '../ErrorBanner.tsx';
import { JobControls } from '../JobControls.tsx';
import { MaskPainter } from '../MaskPainter.tsx';
import { ImagePicker } from '../ImagePicker.tsx';
import { LoraPicker } from '../LoraPicker.tsx';
import { PromptHighlight } from '../PromptHighlight.tsx';

/** Set by the image page's "make again" / "use as init": the form starts from it. */
export const DRAFT_KEY = 'gesso.draft';

const randomSeed = () => Math.floor(Math.random() * 2 ** 32);

function readDraft(): { params: GenerateParams; locked: boolean } {
  const text = sessionStorage.getItem(DRAFT_KEY);
  const base: GenerateParams = { prompt: '', negativePrompt: '', steps: 20, cfgScale: 7, width: 64, height: 64, batchSize: 1, seed: randomSeed() };
  if (!text) return { params: base, locked: false };
  try {
    const draft = JSON.parse(text) as GenerateParams;
    return { params: { ...base, ...draft }, locked: draft.seed !== undefined };
  } catch {
    return { params: base, locked: false };
  }
}

export function GeneratePage() {
  const [initial] = useState(readDraft);
  const [form, setForm] = useState<GenerateParams>(initial.params);
  const [lockSeed, setLockSeed] = useState(initial.locked);
  const [modelIds, setModelIds] = useState<string[]>([]);
  const [samplerNames, setSamplerNames] = useState<string[]>([]);
  const [job, setJob] = useState<Job | null>(null);
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stopWatching = useRef<(() => void) | null>(null);
  // Inpainting: the painted mask (PNG data URL), sent with the init image.
  const [mask, setMask] = useState<string | null>(null);
  const onMask = useCallback((m: string | null) => setMask(m), []);

  useEffect(() => {
    sessionStorage.removeItem(DRAFT_KEY);
    models()
      .then((m) => {
        setModelIds(m.models.map((x) => x.id));
        setForm((f) => ({ ...f, model: f.model ?? m.default }));
      })
      .catch((e) => setError(errorText(e)));
    samplers()
      .then((s) => setSamplerNames(s.map((x) => x.name)))
      .catch(() => setSamplerNames([]));
    return () => stopWatching.current?.();
  }, []);

  const set = <K extends keyof GenerateParams>(key: K, value: GenerateParams[K]) => setForm((f) => ({ ...f, [key]: value }));
  const num = (key: 'steps' | 'cfgScale' | 'seed' | 'width' | 'height' | 'batchSize' | 'strength') => ({
    value: form[key] ?? '',
    onChange: (e: { target: { value: string } }) => set(key, e.target.value === '' ? undefined : Number(e.target.value)),
  });
  const running = job !== null && (job.state === 'queued' || job.state === 'running');

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setProgress(null);
    setPreview(null);
    const params: GenerateParams = { ...form };
    if (!lockSeed) params.seed = randomSeed();
    if (!params.negativePrompt) delete params.negativePrompt;
    if (!params.scheduler) delete params.scheduler;
    if (params.initImageId && mask) params.mask = mask;
    setForm((f) => ({ ...f, seed: params.seed }));
    try {
      const submitted = await generate(params);
      setJob(submitted);
      stopWatching.current?.();
      stopWatching.current = watchJob(
        submitted.id,
        (p) => {
          setProgress(p);
          if (p.preview) setPreview(`data:image/png;base64,${p.preview}`);
        },
        (j) => {
          setJob(j);
          if (j.state === 'failed') setError(j.error ?? 'the generation failed');
        },
      );
    } catch (err) {
      setError(errorText(err));
    }
  }

  async function cancel() {
    if (!job) return;
    try {
      setJob(await cancelJob(job.id));
    } catch (err) {
      setError(errorText(err));
    }
  }

  const done = job?.state === 'done' ? (job.result?.imageIds ?? []) : [];
  const status = job
    ? `${job.state}${progress ? ` — step ${progress.step}/${progress.steps}${running ? `, ${Math.ceil(progress.etaMs / 1000)} s left` : ''}` : ''}`
    : 'idle';
  return (
    <div className="generate">
      <form onSubmit={submit} className="recipe" aria-label="Recipe">
        <label htmlFor="prompt">Prompt</label>
        <textarea
          id="prompt"
          rows={3}
          required
          value={form.prompt}
          onChange={(e) => set('prompt', e.target.value)}
          aria-describedby="prompt-weights"
          placeholder="a red star, (bold lines:1.3)"
        />
        <PromptHighlight prompt={form.prompt} id="prompt-weights" />
        <label htmlFor="negative">Negative prompt</label>
        <textarea id="negative" rows={2} value={form.negativePrompt ?? ''} onChange={(e) => set('negativePrompt', e.target.value)} />
        {form.initImageId && (
          <p className="init">
            Starting from <a href={`#/image/${form.initImageId}`}>{form.initImageId}</a> ({mask ? 'inpainting the painted area' : 'img2img'}){' '}
            <button type="button" onClick={() => set('initImageId', undefined)}>
              Clear
            </button>
          </p>
        )}
        {form.initImageId && <MaskPainter imageId={form.initImageId} onChange={onMask} />}
        {!form.initImageId && (
          <details className="init-pick">
            <summary>Start from an image (img2img, inpainting)</summary>
            <ImagePicker label="Init image" value={null} onChange={(id) => set('initImageId', id)} onError={setError} />
          </details>
        )}
        <div className="grid-fields">
          <label>
            Model
            <select value={form.model ?? ''} onChange={(e) => set('model', e.target.value)}>
              {modelIds.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </label>
          <label>
            Sampler
            <select value={form.scheduler ?? ''} onChange={(e) => set('scheduler', e.target.value || undefined)}>
              <option value="">model default</option>
              {samplerNames.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            Steps
            <input type="number" min={1} max={1000} {...num('steps')} />
          </label>
          <label>
            CFG scale
            <input type="number" min={0} max={100} step={0.5} {...num('cfgScale')} />
          </label>
          <label>
            Seed
            <input type="number" min={0} max={4294967295} {...num('seed')} onFocus={() => setLockSeed(true)} />
          </label>
          <label className="check">
            <input type="checkbox" checked={lockSeed} onChange={(e) => setLockSeed(e.target.checked)} /> Lock seed
          </label>
          <label>
            Width
            <input type="number" min={8} max={4096} step={8} {...num('width')} />
          </label>
          <label>
            Height
            <input type="number" min={8} max={4096} step={8} {...num('height')} />
          </label>
          <label>
            Batch
            <input type="number" min={1} max={64} {...num('batchSize')} />
          </label>
          {form.initImageId && (
            <label>
              Strength
              <input type="number" min={0.05} max={1} step={0.05} {...num('strength')} />
            </label>
          )}
        </div>
        <LoraPicker value={form.loras ?? []} onChange={(l) => set('loras', l.length > 0 ? l : undefined)} onError={setError} />
        <JobControls
          submitLabel="Generate"
          running={running}
          onCancel={cancel}
          progress={progress}
          status={status}
          statusTestId="job-status"
          error={error}
          onDismissError={() => setError(null)}
        />
      </form>
      <section className="output" aria-label="Output" aria-live="polite">
        <div className="preview-box">
          {done[0] ? (
            <img src={imageUrl(done[0])} alt={`Result ${done[0]}`} />
          ) : preview ? (
            <img src={preview} alt={`Preview at step ${progress?.step ?? 0}`} data-testid="preview" />
          ) : (
            <span className="muted">Previews appear here</span>
          )}
        </div>
        {done.length > 0 && (
          <ul className="results" aria-label="Results">
            {done.map((id) => (
              <li key={id}>
                <a href={`#/image/${id}`}>
                  <img src={imageUrl(id)} alt={`Result ${id}`} width={128} height={128} />
                </a>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
