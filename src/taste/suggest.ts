/**
 * "More like my taste": choose the settings to generate with next. Every image already made is scored
 * by the user's taste model; images are grouped by their settings (prompt and CFG), and the settings
 * are ranked by an upper confidence bound (UCB1-style, Auer et al. 2002) on their mean score:
 * mean + explore · spread / √n, so settings that made few images still get tried. Each suggestion
 * says why: its mean score, how many images it rests on, and its best image.
 */

/** One image made with known settings, scored by the taste model. */
export interface ScoredMake {
  id: string;
  prompt: string;
  cfgScale: number | null;
  seed: number | null;
  score: number;
}

export interface SettingsSuggestion {
  prompt: string;
  cfgScale: number | null;
  /** Seeds not used yet with these settings. */
  seeds: number[];
  meanScore: number;
  images: number;
  bestImageId: string;
  /** The ranking value: mean + exploration bonus. */
  upperBound: number;
  why: string;
}

export interface SuggestOptions {
  /** Weight of the exploration bonus (0: pure exploitation). */
  explore?: number;
  /** Seeds proposed per suggestion. */
  seeds?: number;
}

export function suggestSettings(made: ScoredMake[], count: number, options: SuggestOptions = {}): SettingsSuggestion[] {
  const explore = options.explore ?? 1;
  const seedCount = options.seeds ?? 4;
  if (made.length === 0) return [];
  const mean = made.reduce((s, m) => s + m.score, 0) / made.length;
  const spread = Math.sqrt(made.reduce((s, m) => s + (m.score - mean) ** 2, 0) / made.length) || 1;
  const groups = new Map<string, ScoredMake[]>();
  for (const m of made) {
    const key = JSON.stringify([m.prompt, m.cfgScale]);
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  return [...groups.values()]
    .map((g) => {
      const first = g[0] as ScoredMake;
      const meanScore = g.reduce((s, m) => s + m.score, 0) / g.length;
      const best = g.reduce((b, m) => (m.score > b.score ? m : b));
      const used = new Set(g.map((m) => m.seed));
      const seeds: number[] = [];
      for (let s = Math.max(0, ...g.map((m) => m.seed ?? 0)) + 1; seeds.length < seedCount; s++) if (!used.has(s)) seeds.push(s);
      const upperBound = meanScore + (explore * spread) / Math.sqrt(g.length);
      return {
        prompt: first.prompt,
        cfgScale: first.cfgScale,
        seeds,
        meanScore,
        images: g.length,
        bestImageId: best.id,
        upperBound,
        why: `your taste model scores the ${g.length} image${g.length === 1 ? '' : 's'} made with these settings ${meanScore.toFixed(2)} on average (all your images: ${mean.toFixed(2)}); the best is ${best.id}`,
      };
    })
    .sort((a, b) => b.upperBound - a.upperBound)
    .slice(0, count);
}
