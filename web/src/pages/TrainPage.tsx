/**
 * Train: the datasets the server knows (with their licences; register one to use it), a form that starts
 * a GAN, fast-style or LoRA fine-tune run, and the runs: state, stop / resume, the live loss curve and the
 * sample grids as the trainer writes them (progress events of the run's job carry both).
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import {
  type Dataset,
  datasets,
  type LossPoint,
  type ModelCard,
  modelCatalog,
  registerDataset,
  resumeTraining,
  sampleUrl,
  startTraining,
  stopTraining,
  type TrainRun,
  trainRun,
  trainRuns,
  watchJob,
} from '../api.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';
import { ImagePicker } from '../ImagePicker.tsx';
import { LossChart } from '../LossChart.tsx';

type Type = 'gan' | 'style' | 'finetune';

export function TrainPage() {
  const [data, setData] = useState<{ registered: Dataset[]; available: string[] }>({ registered: [], available: [] });
  const [runs, setRuns] = useState<TrainRun[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onError = useCallback((e: string) => setError(e), []);

  const refresh = useCallback(async () => {
    try {
      const [d, r] = await Promise.all([datasets(), trainRuns()]);
      setData(d);
      setRuns(r.runs);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  async function register(id: string) {
    try {
      await registerDataset(id);
      await refresh();
    } catch (e) {
      setError(errorText(e));
    }
  }

  const unregistered = data.available.filter((id) => !data.registered.some((d) => d.id === id));
  return (
    <div className="train">
      <div className="train-side">
        <section className="panel" aria-labelledby="datasets-h">
          <h2 id="datasets-h">Datasets</h2>
          <table className="facts">
            <thead>
              <tr>
                <th scope="col">Dataset</th>
                <th scope="col">Files</th>
                <th scope="col">Licences</th>
                <th scope="col">Usable</th>
              </tr>
            </thead>
            <tbody>
              {data.registered.map((d) => (
                <tr key={d.id}>
                  <td>{d.id}</td>
                  <td>{d.files}</td>
                  <td>
                    {Object.entries(d.licences.byLicence)
                      .map(([l, n]) => `${l}: ${n}`)
                      .join(', ')}
                  </td>
                  <td>
                    {!d.flagged
                      ? 'yes'
                      : d.decision === 'include'
                        ? 'yes (flagged files included by decision)'
                        : d.decision === 'exclude'
                          ? 'no: flagged files are to be excluded (build a dataset without them)'
                          : 'needs a decision (restrictive or unknown licences)'}
                  </td>
                </tr>
              ))}
              {unregistered.map((id) => (
                <tr key={id}>
                  <td>{id}</td>
                  <td colSpan={2} className="muted">
                    not registered yet (registering hashes every file and reads its licence)
                  </td>
                  <td>
                    <button type="button" onClick={() => register(id)}>
                      Register {id}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.registered.length + unregistered.length === 0 && (
            <p className="muted">No datasets: start the server with --datasets DIR (folders built by gesso data).</p>
          )}
        </section>
        <StartForm
          datasets={data.registered.filter((d) => d.cleared && !(d.flagged && d.decision === 'exclude'))}
          onStarted={(run) => {
            setSelected(run.id);
            refresh();
          }}
          onError={onError}
        />
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
      </div>
      <section className="panel" aria-labelledby="runs-h">
        <h2 id="runs-h">Runs</h2>
        <ul className="runs" aria-label="Training runs">
          {runs.map((r) => (
            <li key={r.id}>
              <button type="button" aria-pressed={selected === r.id} onClick={() => setSelected(r.id)}>
                {r.name}{' '}
                <span className="muted">
                  ({r.type} on {r.dataset})
                </span>{' '}
                — {r.state}, step {r.step}/{r.steps}
              </button>
            </li>
          ))}
          {runs.length === 0 && <li className="muted">No runs yet.</li>}
        </ul>
        {selected && <RunView key={selected} id={selected} onChange={refresh} onError={onError} />}
      </section>
    </div>
  );
}

function StartForm({ datasets: usable, onStarted, onError }: { datasets: Dataset[]; onStarted: (run: TrainRun) => void; onError: (e: string) => void }) {
  const [type, setType] = useState<Type>('gan');
  const [dataset, setDataset] = useState('');
  const [name, setName] = useState('my-gan');
  const [steps, setSteps] = useState(200);
  const [batch, setBatch] = useState(8);
  const [tiny, setTiny] = useState(false);
  const [styleImage, setStyleImage] = useState<string | null>(null);
  const [base, setBase] = useState('');
  const [diffusion, setDiffusion] = useState<ModelCard[]>([]);
  useEffect(() => {
    modelCatalog()
      .then((c) => {
        setDiffusion(c.models.filter((m) => m.kind === 'diffusion'));
        setBase(c.default);
      })
      .catch((e) => onError(errorText(e)));
  }, [onError]);
  const chosen = dataset || usable[0]?.id || '';

  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const body: Record<string, unknown> = { type, dataset: chosen, name, steps, batch };
      if (type === 'gan' && tiny) body.tiny = true;
      if (type === 'style' && styleImage) body.styleImageId = styleImage;
      if (type === 'finetune') body.model = base;
      const { run } = await startTraining(body);
      onStarted(run);
    } catch (err) {
      onError(errorText(err));
    }
  }

  return (
    <form className="panel" onSubmit={submit} aria-labelledby="start-h">
      <h2 id="start-h">Start a run</h2>
      <div className="grid-fields">
        <label>
          What
          <select value={type} onChange={(e) => setType(e.target.value as Type)}>
            <option value="gan">GAN</option>
            <option value="style">Fast style</option>
            <option value="finetune">LoRA</option>
          </select>
        </label>
        <label>
          Dataset
          <select value={chosen} onChange={(e) => setDataset(e.target.value)}>
            {usable.map((d) => (
              <option key={d.id}>{d.id}</option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" required />
        </label>
        <label>
          Steps
          <input type="number" min={1} max={100000} value={steps} onChange={(e) => setSteps(Number(e.target.value))} />
        </label>
        <label>
          Batch
          <input type="number" min={1} max={64} value={batch} onChange={(e) => setBatch(Number(e.target.value))} />
        </label>
        {type === 'gan' && (
          <label className="check wide">
            <input type="checkbox" checked={tiny} onChange={(e) => setTiny(e.target.checked)} /> Tiny network (seconds, to try it out)
          </label>
        )}
        {type === 'finetune' && (
          <label>
            Base model
            <select value={base} onChange={(e) => setBase(e.target.value)}>
              {diffusion.map((m) => (
                <option key={m.id}>{m.id}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      {type === 'style' && <ImagePicker label="Style image" value={styleImage} onChange={setStyleImage} onError={onError} />}
      <button type="submit" disabled={!chosen}>
        Start training
      </button>
      {!chosen && <p className="hint">Register a dataset whose licences allow training first.</p>}
    </form>
  );
}

function RunView({ id, onChange, onError }: { id: string; onChange: () => void; onError: (e: string) => void }) {
  const [run, setRun] = useState<TrainRun | null>(null);
  const [history, setHistory] = useState<LossPoint[]>([]);
  const [samples, setSamples] = useState<number[]>([]);
  const [shown, setShown] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      const r = await trainRun(id);
      setRun(r);
      setHistory(r.history);
      setSamples(r.samples);
    } catch (e) {
      onError(errorText(e));
    }
  }, [id, onError]);
  useEffect(() => {
    void load();
  }, [load]);

  // Live: the run's job reports each new loss line and sample grid.
  const jobId = run?.jobId;
  const live = run?.state === 'running' || run?.state === 'queued';
  useEffect(() => {
    if (!jobId || !live) return;
    return watchJob(
      jobId,
      (p) => {
        const metrics = p.metrics;
        if (metrics) setHistory((h) => (h.at(-1)?.step === p.step ? h : [...h, { step: p.step, ...metrics } as LossPoint]));
        if (p.sample !== undefined) setSamples((s) => (s.includes(p.sample as number) ? s : [...s, p.sample as number]));
        setRun((r) => (r ? { ...r, state: 'running', step: p.step } : r));
      },
      () => {
        void load();
        onChange();
      },
    );
  }, [jobId, live, load, onChange]);

  async function act(fn: (id: string) => Promise<unknown>) {
    try {
      await fn(id);
      await load();
      onChange();
    } catch (e) {
      onError(errorText(e));
    }
  }

  if (!run) return <p className="muted">Loading the run…</p>;
  const sample = shown ?? samples.at(-1) ?? null;
  return (
    <section className="run" aria-label={`Run ${run.name}`}>
      <p data-testid="run-status">
        {run.name}: {run.state}, step {run.step}/{run.steps}
        {run.error ? ` — ${run.error}` : ''}
      </p>
      <div className="actions">
        <button type="button" onClick={() => act(stopTraining)} disabled={!live}>
          Stop
        </button>
        <button type="button" onClick={() => act(resumeTraining)} disabled={live || run.state === 'done'}>
          Resume
        </button>
      </div>
      <LossChart points={history} />
      <div className="samples">
        <label>
          <span>
            Sample grid at step <span className="value">{sample ?? '—'}</span>
          </span>
          <input
            type="range"
            min={0}
            max={Math.max(0, samples.length - 1)}
            value={sample === null ? 0 : samples.indexOf(sample)}
            onChange={(e) => setShown(samples[Number(e.target.value)] ?? null)}
            disabled={samples.length < 2}
          />
        </label>
        <div className="sample-box">
          {sample !== null ? (
            <img src={sampleUrl(run.id, sample)} alt={`Samples at step ${sample}`} data-testid="sample-grid" />
          ) : (
            <span className="muted">sample grids appear here</span>
          )}
        </div>
      </div>
    </section>
  );
}
