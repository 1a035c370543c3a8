/**
 * Your taste model (learnt from your comparisons and ratings): your library's best images first, why
 * each scores as it does (the past choices that drove it), and "more like my taste" — settings the model
 * suggests, generated in a batch and shown best first.
 */
import { useEffect, useState } from 'react';
import { api, generate, imageUrl, type Job, searchImages, watchJob } from '../api.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';
import '../taste.css';

interface Ranked {
  id: string;
  score: number;
}

interface Influence {
  kind: 'comparison' | 'ratings';
  winnerId: string;
  loserId: string;
  ratings?: [number, number];
  contribution: number;
}

interface Why {
  id: string;
  score: number;
  judgements: number;
  influences: Influence[];
  features: { name: string; contribution: number }[];
}

interface Suggestion {
  prompt: string;
  cfgScale: number | null;
  seeds: number[];
  meanScore: number;
  images: number;
  bestImageId: string;
  why: string;
}

const rank = (imageIds: string[], k?: number) => api<{ ranked: Ranked[]; judgements: number }>('POST', '/api/taste/rank', { imageIds, ...(k ? { k } : {}) });

export function TastePage() {
  const [best, setBest] = useState<Ranked[]>([]);
  const [judgements, setJudgements] = useState<number | null>(null);
  const [why, setWhy] = useState<Why | null>(null);
  const [suggestions, setSuggestions] = useState<Suggestion[] | null>(null);
  const [made, setMade] = useState<{ status: string; ranked: Ranked[] } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    searchImages({}, null, 200)
      .then(async (page) => {
        if (page.images.length === 0) return setJudgements(0);
        const r = await rank(
          page.images.map((i) => i.id),
          12,
        );
        setBest(r.ranked);
        setJudgements(r.judgements);
      })
      .catch((e) => setError(errorText(e)));
  }, []);

  const explain = (id: string) =>
    api<Why>('GET', `/api/taste/why/${id}?k=5`)
      .then(setWhy)
      .catch((e) => setError(errorText(e)));
  const suggest = () =>
    api<{ suggestions: Suggestion[] }>('POST', '/api/taste/suggest', { count: 3 })
      .then((r) => setSuggestions(r.suggestions))
      .catch((e) => setError(errorText(e)));
  const makeMore = async (s: Suggestion) => {
    try {
      const job = await generate({ prompt: s.prompt, ...(s.cfgScale !== null ? { cfgScale: s.cfgScale } : {}), seed: s.seeds[0] ?? 0, batchSize: 4 });
      setMade({ status: 'queued', ranked: [] });
      watchJob(
        job.id,
        (p) => setMade({ status: `running · step ${p.step}/${p.steps}`, ranked: [] }),
        (j: Job) => {
          if (j.state === 'done')
            rank(j.result?.imageIds ?? [])
              .then((r) => setMade({ status: 'done · best first', ranked: r.ranked }))
              .catch((e) => setError(errorText(e)));
          else setMade({ status: j.state, ranked: [] });
        },
      );
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <div className="taste">
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <p className="muted" data-testid="taste-status">
        {judgements === null ? 'Loading your taste model…' : `Your taste model has learnt from ${judgements} judgements (comparisons and ratings).`}
      </p>

      <h2>Best of your library</h2>
      <ul className="results" aria-label="Best of your library">
        {best.map((r, i) => (
          <li key={r.id} data-testid="best">
            <img src={imageUrl(r.id)} alt={`Rank ${i + 1}`} width={96} height={96} />
            <span className="muted">score {r.score.toFixed(2)}</span>
            <button type="button" onClick={() => explain(r.id)} aria-label={`Why is image ${i + 1} ranked here?`}>
              Why?
            </button>
          </li>
        ))}
      </ul>

      {why && (
        <section aria-label="Why this score" className="taste-why" data-testid="why">
          <h3>
            Why <img src={imageUrl(why.id)} alt="this one" width={48} height={48} /> scores {why.score.toFixed(2)}
          </h3>
          <p className="muted">
            The past choices that move its score most, of {why.judgements}: each number is how much the score would drop without that choice (negative: the
            choice holds it down).
          </p>
          <ol>
            {why.influences.map((inf) => (
              <li key={`${inf.winnerId}>${inf.loserId}`} data-testid="influence">
                <img src={imageUrl(inf.winnerId)} alt="preferred" width={40} height={40} /> over{' '}
                <img src={imageUrl(inf.loserId)} alt="not preferred" width={40} height={40} />{' '}
                {inf.kind === 'comparison' ? 'you picked the first in a comparison' : `you rated them ${inf.ratings?.join(' and ')}`} ·{' '}
                <strong>
                  {inf.contribution >= 0 ? '+' : ''}
                  {inf.contribution.toFixed(2)}
                </strong>
              </li>
            ))}
          </ol>
          <p className="muted">
            Features pushing it most: {why.features.map((f) => `${f.name} ${f.contribution >= 0 ? '+' : ''}${f.contribution.toFixed(2)}`).join(', ')}
          </p>
        </section>
      )}

      <h2>More like my taste</h2>
      <button type="button" onClick={suggest}>
        Suggest what to make next
      </button>
      {suggestions && suggestions.length === 0 && <p className="muted">Generate a few images first: suggestions come from what your settings made.</p>}
      <ul className="taste-suggestions">
        {suggestions?.map((s) => (
          <li key={`${s.prompt}|${s.cfgScale}`} data-testid="suggestion">
            <img src={imageUrl(s.bestImageId)} alt="the best these settings made" width={64} height={64} />
            <div>
              <strong>{s.prompt}</strong> · CFG {s.cfgScale ?? 'default'} · seeds {s.seeds.join(', ')}
              <br />
              <span className="muted">{s.why}</span>
            </div>
            <button type="button" onClick={() => makeMore(s)}>
              Generate 4, best first
            </button>
          </li>
        ))}
      </ul>
      {made && (
        <>
          <p className="muted" data-testid="made-status">
            {made.status}
          </p>
          <ul className="results" aria-label="New images, best first">
            {made.ranked.map((r, i) => (
              <li key={r.id}>
                <img src={imageUrl(r.id)} alt={`New image, rank ${i + 1}`} width={96} height={96} />
                <span className="muted">score {r.score.toFixed(2)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
