/**
 * Shows a prompt with its A1111 weight syntax marked: (word:1.3) and (word) strengthen, [word] weakens.
 * The weights shown follow A1111's rules: ( ) multiplies by 1.1, [ ] divides by 1.1, (x:w) sets w.
 */
export interface PromptPart {
  text: string;
  weight: number;
  /** Where the part starts in the prompt: a stable, unique key. */
  start: number;
}

export function parsePromptWeights(prompt: string): PromptPart[] {
  const parts: PromptPart[] = [];
  const re = /\(([^():]+):\s*(-?\d+(?:\.\d+)?)\)|\(([^()]+)\)|\[([^[\]]+)\]/g;
  let last = 0;
  for (let m = re.exec(prompt); m; m = re.exec(prompt)) {
    if (m.index > last) parts.push({ text: prompt.slice(last, m.index), weight: 1, start: last });
    if (m[1] !== undefined) parts.push({ text: m[0], weight: Number(m[2]), start: m.index });
    else if (m[3] !== undefined) parts.push({ text: m[0], weight: 1.1, start: m.index });
    else parts.push({ text: m[0], weight: 1 / 1.1, start: m.index });
    last = m.index + m[0].length;
  }
  if (last < prompt.length) parts.push({ text: prompt.slice(last), weight: 1, start: last });
  return parts;
}

export function PromptHighlight({ prompt, id }: { prompt: string; id: string }) {
  const parts = parsePromptWeights(prompt);
  if (!parts.some((p) => p.weight !== 1)) return null;
  return (
    <p className="prompt-weights" id={id}>
      {parts.map((p) =>
        p.weight === 1 ? (
          <span key={p.start}>{p.text}</span>
        ) : (
          <mark key={p.start} className={p.weight > 1 ? 'up' : 'down'} title={`weight ${p.weight.toFixed(2)}`}>
            {p.text}
            <sub>×{p.weight.toFixed(2)}</sub>
          </mark>
        ),
      )}
    </p>
  );
}
