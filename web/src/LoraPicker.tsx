/**
 * The LoRAs of a generation: chosen from the files the server offers (GET /api/loras), each with its
 * weight (as A1111's <lora:name:weight>). The server merges them into the model; the image's recipe
 * records each one with its hash and weight.
 */
import { useEffect, useState } from 'react';
import { type LoraInfo, type LoraWeight, loras as listLoras } from './api.ts';
import { errorText } from './ErrorBanner.tsx';

interface Props {
  value: LoraWeight[];
  onChange: (loras: LoraWeight[]) => void;
  onError: (message: string) => void;
}

export function LoraPicker({ value, onChange, onError }: Props) {
  const [available, setAvailable] = useState<LoraInfo[] | null>(null);
  const [pick, setPick] = useState('');
  useEffect(() => {
    const load = () =>
      listLoras()
        .then((r) => setAvailable(r.loras))
        .catch((e) => onError(errorText(e)));
    load();
    // LoRA files put on the server while the page is open show up when the user comes back to it.
    window.addEventListener('focus', load);
    return () => window.removeEventListener('focus', load);
  }, [onError]);

  const unused = (available ?? []).filter((l) => !value.some((v) => v.name === l.name));
  const setWeight = (name: string, weight: number) => onChange(value.map((l) => (l.name === name ? { ...l, weight } : l)));
  const add = () => {
    if (!pick) return;
    onChange([...value, { name: pick, weight: 1 }]);
    setPick('');
  };

  return (
    <fieldset className="picker loras">
      <legend>LoRAs</legend>
      {value.length === 0 && <p className="muted">{available?.length === 0 ? 'No LoRA files on this server.' : 'None chosen.'}</p>}
      {value.length > 0 && (
        <ul className="lora-list" aria-label="Chosen LoRAs">
          {value.map((l) => (
            <li key={l.name}>
              <span className="lora-name">{l.name}</span>
              <label>
                Weight
                <input
                  type="number"
                  min={-4}
                  max={4}
                  step={0.05}
                  value={l.weight}
                  aria-label={`Weight of ${l.name}`}
                  onChange={(e) => Number.isFinite(e.target.valueAsNumber) && setWeight(l.name, e.target.valueAsNumber)}
                />
              </label>
              <button type="button" onClick={() => onChange(value.filter((v) => v.name !== l.name))} aria-label={`Remove ${l.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {unused.length > 0 && (
        <div className="picker-bar">
          <label>
            Add a LoRA
            <select value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="">choose…</option>
              {unused.map((l) => (
                <option key={l.name} value={l.name}>
                  {l.name}
                  {l.baseModel ? ` (for ${l.baseModel})` : ''}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={add} disabled={!pick}>
            Add
          </button>
        </div>
      )}
    </fieldset>
  );
}
