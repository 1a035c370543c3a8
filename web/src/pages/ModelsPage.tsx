/** Models: every installed model (text-to-image, GAN, style) with its card — data, licences, metrics, training, pictures. */
import { useEffect, useState } from 'react';
import { type ModelCard, modelCatalog, modelPictureUrl } from '../api.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';
import { Markdown } from '../Markdown.tsx';

const KIND: Record<ModelCard['kind'], string> = {
  diffusion: 'text to image',
  gan: 'GAN',
  'style-adain': 'style (AdaIN, any style)',
  'style-fast': 'style (fast network)',
};

/** Top-level facts of a JSON object as rows (nested values as compact JSON). */
function facts(value: Record<string, unknown> | null): [string, string][] {
  if (!value) return [];
  return Object.entries(value)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => [k, typeof v === 'number' ? String(Number(v.toPrecision(4))) : typeof v === 'string' ? v : JSON.stringify(v).slice(0, 200)]);
}

function licenceText(l: ModelCard['licences']): string | null {
  if (l === null) return null;
  if (typeof l === 'string') return l;
  return Object.entries(l)
    .map(([k, n]) => `${k}: ${n} files`)
    .join(', ');
}

export function ModelsPage() {
  const [models, setModels] = useState<ModelCard[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    modelCatalog()
      .then((c) => setModels(c.models))
      .catch((e) => setError(errorText(e)));
  }, []);

  return (
    <div className="models">
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <nav aria-label="Models" className="model-index">
        {models.map((m) => (
          // A button, not a link: the hash holds the route, so the card cannot be a fragment target.
          <button key={m.id} type="button" onClick={() => document.getElementById(`model-${m.id}`)?.focus()}>
            {m.id}
          </button>
        ))}
      </nav>
      {models.map((m) => {
        const licences = licenceText(m.licences);
        const metrics = facts(m.metrics).filter(([, v]) => v.length < 80);
        return (
          <article key={m.id} className="panel model-card" aria-labelledby={`model-${m.id}`} data-testid="model-card">
            <h2 id={`model-${m.id}`} tabIndex={-1}>
              {m.id} <span className="badge kind">{KIND[m.kind]}</span>
            </h2>
            <dl className="summary">
              <dt>Size</dt>
              <dd>{(m.sizeBytes / 2 ** 20).toFixed(1)} MB</dd>
              <dt>Data licences</dt>
              <dd>{licences ?? 'see the card'}</dd>
              {m.genes.length > 0 && (
                <>
                  <dt>Genes</dt>
                  <dd>
                    {m.genes.length} named directions ({m.genes.slice(0, 3).join(', ')}, …)
                  </dd>
                </>
              )}
            </dl>
            {m.pictures.length > 0 && (
              <div className="pictures">
                {m.pictures.map((p) => (
                  <img key={p} src={modelPictureUrl(m.id, p)} alt={`${m.id}: ${p}`} loading="lazy" />
                ))}
              </div>
            )}
            {metrics.length > 0 && (
              <details open>
                <summary>Metrics (eval.json)</summary>
                <table className="facts">
                  <tbody>
                    {metrics.map(([k, v]) => (
                      <tr key={k}>
                        <th scope="row">{k}</th>
                        <td>{v}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </details>
            )}
            {m.card ? (
              <details open={models.length <= 2}>
                <summary>Model card</summary>
                <Markdown text={m.card} headingOffset={3} />
              </details>
            ) : (
              <p className="muted">This model folder has no README.md card.</p>
            )}
          </article>
        );
      })}
    </div>
  );
}
