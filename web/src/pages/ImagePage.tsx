/** One image: the picture, its recipe, its lineage (parents and children), and make again / vary / use as init. */
import { useEffect, useState } from 'react';
import { type GenerateParams, getImage, type ImageRecord, imageUrl, type LineageNode, lineage } from '../api.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';
import { go } from '../route.ts';
import { DRAFT_KEY } from './GeneratePage.tsx';

interface RecipeFields {
  prompt?: string;
  negativePrompt?: string;
  steps?: number;
  cfgScale?: number;
  seed?: number;
  width?: number;
  height?: number;
  scheduler?: { name?: string };
  loras?: { name: string; weight: number }[];
}

/** The generation settings that made this image, from its gesso recipe (or the library's columns). */
function paramsOf(image: ImageRecord): GenerateParams {
  const r = (typeof image.recipe === 'object' && image.recipe !== null ? image.recipe : {}) as RecipeFields;
  const params: GenerateParams = { prompt: r.prompt ?? image.prompt, negativePrompt: r.negativePrompt ?? image.negativePrompt ?? '' };
  const steps = r.steps ?? image.steps;
  const cfg = r.cfgScale ?? image.cfgScale;
  const seed = r.seed ?? image.seed;
  if (steps != null) params.steps = steps;
  if (cfg != null) params.cfgScale = cfg;
  if (seed != null) params.seed = seed;
  if (r.width) params.width = r.width;
  if (r.height) params.height = r.height;
  if (r.scheduler?.name) params.scheduler = r.scheduler.name;
  if (image.model) params.model = image.model;
  if (r.loras?.length) params.loras = r.loras.map(({ name, weight }) => ({ name, weight }));
  return params;
}

function startFrom(params: GenerateParams) {
  sessionStorage.setItem(DRAFT_KEY, JSON.stringify(params));
  go('#/generate');
}

function Node({ node }: { node: LineageNode }) {
  return (
    <li>
      <a href={`#/image/${node.id}`} title={node.prompt}>
        <img src={imageUrl(node.id)} alt={node.prompt || node.id} width={72} height={72} />
      </a>
    </li>
  );
}

export function ImagePage({ id }: { id: string }) {
  const [image, setImage] = useState<ImageRecord | null>(null);
  const [family, setFamily] = useState<{ parents: LineageNode[]; children: LineageNode[] }>({ parents: [], children: [] });
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setImage(null);
    setError(null);
    getImage(id)
      .then(setImage)
      .catch((e) => setError(errorText(e)));
    lineage(id)
      .then(setFamily)
      .catch(() => setFamily({ parents: [], children: [] }));
  }, [id]);

  if (error) return <ErrorBanner error={error} />;
  if (!image) return <p className="muted">Loading…</p>;
  const params = paramsOf(image);
  const { seed: _seed, ...withoutSeed } = params;
  const rows: [string, string | number | null | undefined][] = [
    ['Prompt', image.prompt],
    ['Negative prompt', image.negativePrompt],
    ['Model', image.model],
    ['Sampler', image.sampler],
    ['Steps', image.steps],
    ['CFG scale', image.cfgScale],
    ['Seed', image.seed],
    ['Size', `${image.width}×${image.height}`],
    ['Rating', image.rating ?? 'unrated'],
    ['Tags', image.tags.join(', ')],
    ['Created', new Date(image.createdAt).toLocaleString()],
    ['SHA-256', image.sha256],
  ];
  return (
    <article className="image-page">
      <img src={imageUrl(image.id)} alt={image.prompt || image.id} className="full" width={image.width} height={image.height} />
      <div>
        <h1>Image {image.id}</h1>
        <div className="actions">
          <button type="button" onClick={() => startFrom(params)}>
            Make again
          </button>
          <button type="button" onClick={() => startFrom(withoutSeed)}>
            Vary (new seed)
          </button>
          <button type="button" onClick={() => startFrom({ ...withoutSeed, initImageId: image.id, strength: 0.6 })}>
            Use as init
          </button>
        </div>
        <h2>Recipe</h2>
        <dl className="recipe-list">
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v === null || v === undefined || v === '' ? '—' : v}</dd>
            </div>
          ))}
        </dl>
        <h2>Lineage</h2>
        <div className="lineage">
          <section>
            <h3>Made from</h3>
            {family.parents.length ? (
              <ul>
                {family.parents.map((n) => (
                  <Node key={n.id} node={n} />
                ))}
              </ul>
            ) : (
              <p className="muted">nothing (made from text)</p>
            )}
          </section>
          <span aria-hidden="true" className="arrow">
            →
          </span>
          <section>
            <h3>This image</h3>
            <img src={imageUrl(image.id)} alt="" width={72} height={72} />
          </section>
          <span aria-hidden="true" className="arrow">
            →
          </span>
          <section>
            <h3>Made from it</h3>
            {family.children.length ? (
              <ul>
                {family.children.map((n) => (
                  <Node key={n.id} node={n} />
                ))}
              </ul>
            ) : (
              <p className="muted">nothing yet</p>
            )}
          </section>
        </div>
        {image.recipe != null && (
          <details>
            <summary>Full recipe (JSON)</summary>
            <pre>{JSON.stringify(image.recipe, null, 2)}</pre>
          </details>
        )}
      </div>
    </article>
  );
}
