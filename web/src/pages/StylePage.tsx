/**
 * Style: restyle a library image (or an upload) with a style image — gatys (optimisation), fast (a trained
 * style network) or adain (any style, one pass) — at a chosen strength; the result goes into the library.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { imageUrl, type ModelCard, modelCatalog, stylize } from '../api.ts';
import { errorText } from '../ErrorBanner.tsx';
import { JobControls } from '../JobControls.tsx';
import { ImagePicker } from '../ImagePicker.tsx';
import { useJob } from '../useJob.ts';

type Method = 'adain' | 'fast' | 'gatys';

export function StylePage() {
  const [content, setContent] = useState<string | null>(null);
  const [style, setStyle] = useState<string | null>(null);
  const [method, setMethod] = useState<Method>('adain');
  const [models, setModels] = useState<ModelCard[]>([]);
  const [model, setModel] = useState('');
  const [strength, setStrength] = useState(1);
  const [size, setSize] = useState(256);
  const [iterations, setIterations] = useState(100);
  const [resultId, setResultId] = useState<string | null>(null);
  const { progress, error, setError, running, run, cancel, status } = useJob();
  const onError = useCallback((e: string) => setError(e), [setError]);

  useEffect(() => {
    modelCatalog()
      .then((c) => setModels(c.models.filter((m) => m.kind === 'style-fast' || m.kind === 'style-adain')))
      .catch((e) => setError(errorText(e)));
  }, [setError]);
  const choices = models.filter((m) => (method === 'fast' ? m.kind === 'style-fast' : m.kind === 'style-adain'));
  useEffect(() => setModel(choices[0]?.id ?? ''), [choices[0]?.id]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!content) return setError('choose a content image');
    if (method !== 'fast' && !style) return setError(`method ${method} needs a style image`);
    const job = await run(() =>
      stylize({
        method,
        contentImageId: content,
        ...(method !== 'fast' && style ? { styleImageId: style } : {}),
        ...(method !== 'gatys' && model ? { model } : {}),
        strength,
        size,
        ...(method === 'gatys' ? { iterations } : {}),
      }),
    );
    setResultId(job?.result?.imageIds?.[0] ?? null);
  }

  return (
    <form className="style-page" onSubmit={submit} aria-label="Style transfer">
      <div className="pickers">
        <ImagePicker label="Content image" value={content} onChange={setContent} onError={onError} />
        {method !== 'fast' && <ImagePicker label="Style image" value={style} onChange={setStyle} onError={onError} />}
      </div>
      <section className="panel controls" aria-label="Settings">
        <div className="grid-fields">
          <label>
            Method
            <select value={method} onChange={(e) => setMethod(e.target.value as Method)}>
              <option value="adain">adain — any style, one pass</option>
              <option value="fast">fast — a trained style network</option>
              <option value="gatys">gatys — optimisation (slow)</option>
            </select>
          </label>
          {method !== 'gatys' && (
            <label>
              Style model
              <select value={model} onChange={(e) => setModel(e.target.value)}>
                {choices.map((m) => (
                  <option key={m.id}>{m.id}</option>
                ))}
              </select>
            </label>
          )}
          <label>
            <span>
              Strength <span className="value">{strength.toFixed(2)}</span>
            </span>
            <input type="range" min={0} max={1} step={0.05} value={strength} onChange={(e) => setStrength(Number(e.target.value))} />
          </label>
          <label>
            Size (px)
            <input type="number" min={16} max={1024} step={8} value={size} onChange={(e) => setSize(Number(e.target.value))} />
          </label>
          {method === 'gatys' && (
            <label>
              Iterations
              <input type="number" min={1} max={2000} value={iterations} onChange={(e) => setIterations(Number(e.target.value))} />
            </label>
          )}
        </div>
        <JobControls
          submitLabel="Stylise"
          running={running}
          onCancel={cancel}
          progress={progress}
          status={status}
          statusTestId="style-status"
          error={error}
          onDismissError={() => setError(null)}
        />
        <div className="preview-box">
          {resultId ? (
            <a href={`#/image/${resultId}`}>
              <img src={imageUrl(resultId)} alt="Stylised result (in the library)" data-testid="style-result" />
            </a>
          ) : (
            <span className="muted">The result appears here and in the library</span>
          )}
        </div>
      </section>
    </form>
  );
}
