/** A loss curve as SVG (no chart library): one line per metric, step on x, the value range on y. */
import type { LossPoint } from './api.ts';

const COLOURS = ['#b3471d', '#1a73e8', '#188038', '#a142f4'];
const [W, H, PAD] = [480, 200, 44];
/** An axis label that fits the margin: 3 significant digits, small values as 2.5e-3. */
const tick = (v: number): string => (v !== 0 && Math.abs(v) < 0.01 ? v.toExponential(1) : v.toPrecision(3));

export function LossChart({ points }: { points: LossPoint[] }) {
  const metrics = [...new Set(points.flatMap((p) => Object.keys(p).filter((k) => k !== 'step')))].filter((k) => !/^d_(real|fake)$/.test(k));
  if (points.length < 2 || metrics.length === 0)
    return (
      <svg className="loss-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Loss curve: no steps yet">
        <text x={W / 2} y={H / 2} textAnchor="middle" className="muted-text">
          the loss curve appears after two steps
        </text>
      </svg>
    );
  const steps = points.map((p) => p.step);
  const values = points.flatMap((p) => metrics.map((m) => p[m])).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  let [y0, y1] = [Math.min(...values), Math.max(...values)];
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 1, y1 + 1];
  const x = (s: number) => PAD + ((s - x0) / Math.max(1, x1 - x0)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD + 8 - ((v - y0) / (y1 - y0)) * (H - 2 * PAD);
  const last = points.at(-1) as LossPoint;
  const summary = metrics.map((m) => `${m} ${last[m]?.toFixed(3)}`).join(', ');
  return (
    <svg className="loss-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Loss curve, step ${last.step}: ${summary}`} data-testid="loss-chart">
      <line x1={PAD} y1={H - PAD + 8} x2={W - PAD} y2={H - PAD + 8} className="axis" />
      <line x1={PAD} y1={8} x2={PAD} y2={H - PAD + 8} className="axis" />
      <text x={PAD} y={H - 6} className="tick">
        {x0}
      </text>
      <text x={W - PAD} y={H - 6} textAnchor="end" className="tick">
        step {x1}
      </text>
      <text x={PAD - 4} y={14} textAnchor="end" className="tick">
        {tick(y1)}
      </text>
      <text x={PAD - 4} y={H - PAD + 8} textAnchor="end" className="tick">
        {tick(y0)}
      </text>
      {metrics.map((m, i) => (
        <polyline
          key={m}
          fill="none"
          stroke={COLOURS[i % COLOURS.length]}
          strokeWidth={1.5}
          points={points
            .filter((p) => typeof p[m] === 'number')
            .map((p) => `${x(p.step).toFixed(1)},${y(p[m] as number).toFixed(1)}`)
            .join(' ')}
        />
      ))}
      {metrics.map((m, i) => (
        <text key={m} x={W - PAD - 4} y={18 + 14 * i} textAnchor="end" style={{ fill: COLOURS[i % COLOURS.length] }} className="tick">
          {m}
        </text>
      ))}
    </svg>
  );
}
