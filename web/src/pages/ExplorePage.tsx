/**
 * Explore: a model's latent space. GAN: sample seeds, pick images (parents / keyframes / corners), breed
 * children, walk through the picks (and download the walk as a looping WebP or GIF), span a grid between
 * four picks, move one pick along its named directions (genes) with sliders. Diffusion: walk or grid
 * between two prompts and two seeds. Any image can be kept into the library (its PNG carries the recipe).
 * Cells have a fixed size, so nothing moves while results arrive.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ExploredImage, type ExploreRequest, type ExploreResult, explore, importImage, type LatentSpec, type ModelCard, modelCatalog } from '../api.ts';
import { errorText } from '../ErrorBanner.tsx';
import { JobControls } from '../JobControls.tsx';
import { useJob } from '../useJob.ts';

const SLIDER_GENES = 6;

export function ExplorePage() {
  const [models, setModels] = useState<ModelCard[]>([]);
  const [modelId, setModelId] = useState('');
  const [result, setResult] = useState<ExploreResult | null>(null);
  const [picked, setPicked] = useState<ExploredImage[]>([]);
  const [kept, setKept] = useState<Record<string, string>>({});
  const [truncation, setTruncation] = useState(1);
  const [format, setFormat] = useState<'webp' | 'gif'>('webp');
  const { progress, error, setError, running, run, cancel, status } = useJob();

  useEffect(() => {
    modelCatalog()
      .then((c) => {
        const usable = c.models.filter((m) => m.kind === 'gan' || m.kind === 'diffusion');
        setModels(usable);
        setModelId(usable.find((m) => m.kind === 'gan')?.id ?? usable[0]?.id ?? '');
      })
      .catch((e) => setError(errorText(e)));
  }, [setError]);

  const model = models.find((m) => m.id === modelId);
  const isGan = model?.kind === 'gan';

  async function go(request: Omit<ExploreRequest, 'model'> & { mode: string }) {
    const job = await run(() => explore({ ...request, model: modelId, ...(isGan ? { truncation } : {}) }));
    if (job) setResult(job.result as unknown as ExploreResult);
  }

  function togglePick(image: ExploredImage) {
    setPicked((p) => (p.includes(image) ? p.filter((x) => x !== image) : [...p, image]));
  }

  async function keep(image: ExploredImage) {
    try {
      const record = await importImage(image.png, `explore-${image.label.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      setKept((k) => ({ ...k, [image.png]: record.id }));
    } catch (e) {
      setError(errorText(e));
    }
  }

  const specs = picked.map((p) => p.spec);
  return (
    <div className="explore">
      <section className="panel controls" aria-label="Exploration">
        <label>
          Model
          <select
            value={modelId}
            onChange={(e) => {
              setModelId(e.target.value);
              setResult(null);
              setPicked([]);
            }}
          >
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id} ({m.kind === 'gan' ? 'GAN' : 'diffusion'})
              </option>
            ))}
          </select>
        </label>
        {isGan ? (
          <GanControls
            picked={specs}
            genes={model?.genes.slice(0, SLIDER_GENES) ?? []}
            running={running}
            truncation={truncation}
            setTruncation={setTruncation}
            format={format}
            setFormat={setFormat}
            onRun={go}
          />
        ) : (
          model && <DiffusionControls running={running} format={format} setFormat={setFormat} onRun={go} />
        )}
        <JobControls
          running={running}
          onCancel={cancel}
          progress={progress}
          status={status}
          statusTestId="explore-status"
          error={error}
          onDismissError={() => setError(null)}
        />
      </section>
      <section className="panel" aria-label="Results">
        <div className="result-head">
          <h2>{result ? `${result.images.length} images` : 'Results'}</h2>
          {result?.animation && (
            <a
              className="button"
              href={`data:image/${result.animation.format};base64,${result.animation.data}`}
              download={`gesso-walk.${result.animation.format}`}
            >
              Download {result.animation.format.toUpperCase()}
            </a>
          )}
          {picked.length > 0 && (
            <button type="button" onClick={() => setPicked([])}>
              Clear picks ({picked.length})
            </button>
          )}
        </div>
        {/* The picks stay in view while their children / walk / grid replace the results (a fixed-height row). */}
        <ol className="picks" aria-label="Picks">
          {picked.map((p, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: picks are shown in pick order
            <li key={i}>
              <img src={`data:image/png;base64,${p.png}`} alt={`Pick ${i + 1}: ${p.label}`} title={p.label} width={48} height={48} />
            </li>
          ))}
          {picked.length === 0 && <li className="muted">No picks yet: click images to pick parents, keyframes or corners.</li>}
        </ol>
        {!result && <p className="muted">Sample some seeds, then pick images to breed, walk between, span a grid or move along genes.</p>}
        <ul className="explore-grid" aria-label="Explored images">
          {result?.images.map((image, i) => {
            const pickedIndex = picked.indexOf(image);
            return (
              // biome-ignore lint/suspicious/noArrayIndexKey: a result's images never reorder
              <li key={i} className="xcell">
                <button type="button" className="pick" aria-pressed={pickedIndex >= 0} onClick={() => togglePick(image)} title={image.label}>
                  <img src={`data:image/png;base64,${image.png}`} alt={image.label} width={96} height={96} />
                  {pickedIndex >= 0 && <span className="badge">{pickedIndex + 1}</span>}
                </button>
                {kept[image.png] ? (
                  <a href={`#/image/${kept[image.png]}`} className="kept">
                    in library
                  </a>
                ) : (
                  <button type="button" className="small" onClick={() => keep(image)} aria-label={`Keep ${image.label}`}>
                    Keep
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}

interface ControlProps {
  running: boolean;
  format: 'webp' | 'gif';
  setFormat: (f: 'webp' | 'gif') => void;
  onRun: (request: Omit<ExploreRequest, 'model'> & { mode: string }) => Promise<void>;
}

function AnimationFormat({ format, setFormat }: Pick<ControlProps, 'format' | 'setFormat'>) {
  return (
    <label>
      Animation
      <select value={format} onChange={(e) => setFormat(e.target.value as 'webp' | 'gif')}>
        <option value="webp">WebP</option>
        <option value="gif">GIF</option>
      </select>
    </label>
  );
}

function GanControls({
  picked,
  genes,
  running,
  truncation,
  setTruncation,
  format,
  setFormat,
  onRun,
}: ControlProps & { picked: LatentSpec[]; genes: string[]; truncation: number; setTruncation: (t: number) => void }) {
  const [firstSeed, setFirstSeed] = useState(1);
  const [count, setCount] = useState(12);
  const [children, setChildren] = useState(8);
  const [rate, setRate] = useState(0.2);
  const [frames, setFrames] = useState(8);
  const [side, setSide] = useState(4);
  const [moves, setMoves] = useState<Record<string, number>>({});
  const slideTimer = useRef<number | undefined>(undefined);

  const sample = (e: FormEvent) => {
    e.preventDefault();
    void onRun({ mode: 'samples', seeds: Array.from({ length: count }, (_, i) => firstSeed + i) });
  };
  const base = picked[0];
  // Sliders re-render the first pick moved along the genes (debounced: one request per pause).
  const slide = (gene: string, amount: number) => {
    const next = { ...moves, [gene]: amount };
    setMoves(next);
    window.clearTimeout(slideTimer.current);
    slideTimer.current = window.setTimeout(() => {
      if (!base) return;
      const list = Object.entries(next)
        .filter(([, a]) => a !== 0)
        .map(([g, a]) => ({ gene: g, amount: a }));
      void onRun({ mode: 'specs', specs: [list.length > 0 ? { op: 'gene', base, moves: list } : base] });
    }, 300);
  };

  return (
    <>
      <form onSubmit={sample} className="sub" aria-label="Sample seeds">
        <h2>Sample</h2>
        <div className="grid-fields">
          <label>
            First seed
            <input type="number" min={0} max={4294967295} value={firstSeed} onChange={(e) => setFirstSeed(Number(e.target.value))} />
          </label>
          <label>
            Count
            <input type="number" min={1} max={64} value={count} onChange={(e) => setCount(Number(e.target.value))} />
          </label>
          <label>
            Truncation ψ
            <input type="number" min={0} max={2} step={0.1} value={truncation} onChange={(e) => setTruncation(Number(e.target.value))} />
          </label>
        </div>
        <button type="submit" disabled={running}>
          Sample
        </button>
      </form>
      <fieldset className="sub" aria-label="With the picked images">
        <h2>With the picks ({picked.length})</h2>
        <div className="grid-fields">
          <label>
            Children
            <input type="number" min={1} max={64} value={children} onChange={(e) => setChildren(Number(e.target.value))} />
          </label>
          <label>
            Mutation rate
            <input type="number" min={0} max={1} step={0.05} value={rate} onChange={(e) => setRate(Number(e.target.value))} />
          </label>
          <label>
            Frames per step
            <input type="number" min={2} max={60} value={frames} onChange={(e) => setFrames(Number(e.target.value))} />
          </label>
          <label>
            Grid side
            <input type="number" min={2} max={8} value={side} onChange={(e) => setSide(Number(e.target.value))} />
          </label>
          <AnimationFormat format={format} setFormat={setFormat} />
        </div>
        <div className="actions">
          <button
            type="button"
            disabled={running || picked.length < 2}
            onClick={() => onRun({ mode: 'breed', parents: picked, children, rate, seed: Math.floor(Math.random() * 1e9) })}
          >
            Breed
          </button>
          <button type="button" disabled={running || picked.length < 2} onClick={() => onRun({ mode: 'walk', keys: picked, frames, animation: format })}>
            Walk
          </button>
          <button type="button" disabled={running || picked.length !== 4} onClick={() => onRun({ mode: 'grid', corners: picked, n: side })}>
            Grid of 4
          </button>
        </div>
        <p className="hint">Breed and walk need 2+ picks, a grid exactly 4 (corners in pick order).</p>
      </fieldset>
      <fieldset className="sub" disabled={!base || running}>
        <legend>Genes of pick 1</legend>
        {genes.map((g) => (
          <label key={g} className="slider">
            <span>
              {g} <span className="value">{(moves[g] ?? 0).toFixed(1)}</span>
            </span>
            <input type="range" min={-3} max={3} step={0.5} value={moves[g] ?? 0} onChange={(e) => slide(g, Number(e.target.value))} />
          </label>
        ))}
        {!base && <p className="hint">Pick an image to move it along its genes.</p>}
      </fieldset>
    </>
  );
}

function DiffusionControls({ running, format, setFormat, onRun }: ControlProps) {
  const [promptA, setPromptA] = useState('a red star');
  const [promptB, setPromptB] = useState('a blue flower');
  const [seedA, setSeedA] = useState(1);
  const [seedB, setSeedB] = useState(2);
  const [frames, setFrames] = useState(6);
  const [steps, setSteps] = useState(15);
  const common = () => ({ prompts: [promptA, promptB].filter((p) => p.trim() !== ''), noiseSeeds: [seedA, seedB], steps });
  return (
    <fieldset className="sub" aria-label="Between two prompts">
      <h2>Between two prompts and seeds</h2>
      <label>
        Prompt A
        <input value={promptA} onChange={(e) => setPromptA(e.target.value)} />
      </label>
      <label>
        Prompt B
        <input value={promptB} onChange={(e) => setPromptB(e.target.value)} />
      </label>
      <div className="grid-fields">
        <label>
          Seed A
          <input type="number" min={0} max={4294967295} value={seedA} onChange={(e) => setSeedA(Number(e.target.value))} />
        </label>
        <label>
          Seed B
          <input type="number" min={0} max={4294967295} value={seedB} onChange={(e) => setSeedB(Number(e.target.value))} />
        </label>
        <label>
          Frames
          <input type="number" min={2} max={25} value={frames} onChange={(e) => setFrames(Number(e.target.value))} />
        </label>
        <label>
          Steps
          <input type="number" min={1} max={50} value={steps} onChange={(e) => setSteps(Number(e.target.value))} />
        </label>
        <AnimationFormat format={format} setFormat={setFormat} />
      </div>
      <div className="actions">
        <button type="button" disabled={running} onClick={() => onRun({ mode: 'diffusion-walk', frames, animation: format, ...common() })}>
          Walk
        </button>
        <button type="button" disabled={running} onClick={() => onRun({ mode: 'diffusion-grid', n: 3, ...common() })}>
          3×3 grid
        </button>
      </div>
    </fieldset>
  );
}
