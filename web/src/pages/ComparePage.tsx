/**
 * Compare: two images side by side; ← picks the left, → the right, ↓ calls it a tie. Each choice is
 * recorded through POST /api/comparisons (the taste model's training data) and the next pair comes up.
 */
import { useCallback, useEffect, useState } from 'react';
import { compare, type ImageRecord, imageUrl, searchImages } from '../api.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';

function randomPair(images: ImageRecord[], previous: [ImageRecord, ImageRecord] | null): [ImageRecord, ImageRecord] | null {
  if (images.length < 2) return null;
  for (let tries = 0; tries < 10; tries++) {
    const a = Math.floor(Math.random() * images.length);
    let b = Math.floor(Math.random() * (images.length - 1));
    if (b >= a) b++;
    const pair: [ImageRecord, ImageRecord] = [images[a] as ImageRecord, images[b] as ImageRecord];
    if (!previous || pair[0].id !== previous[0].id || pair[1].id !== previous[1].id) return pair;
  }
  return [images[0] as ImageRecord, images[1] as ImageRecord];
}

export function ComparePage() {
  const [images, setImages] = useState<ImageRecord[]>([]);
  const [pair, setPair] = useState<[ImageRecord, ImageRecord] | null>(null);
  const [count, setCount] = useState(0);
  const [last, setLast] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    searchImages({}, null, 500)
      .then((page) => {
        setImages(page.images);
        setPair(randomPair(page.images, null));
      })
      .catch((e) => setError(errorText(e)))
      .finally(() => setLoaded(true));
  }, []);

  const choose = useCallback(
    async (winner: 'a' | 'b' | 'tie') => {
      if (!pair) return;
      try {
        await compare(pair[0].id, pair[1].id, winner);
        setCount((c) => c + 1);
        setLast(winner === 'tie' ? 'Recorded a tie' : `Recorded: ${winner === 'a' ? 'left' : 'right'} is better`);
        setPair(randomPair(images, pair));
      } catch (e) {
        setError(errorText(e));
      }
    },
    [pair, images],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      if (e.key === 'ArrowLeft') void choose('a');
      else if (e.key === 'ArrowRight') void choose('b');
      else if (e.key === 'ArrowDown') void choose('tie');
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [choose]);

  return (
    <div className="compare">
      <p className="hint">Which is better? ← left · → right · ↓ tie</p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {pair ? (
        <div className="pair">
          {pair.map((im, side) => (
            <figure key={im.id}>
              <button
                type="button"
                onClick={() => choose(side === 0 ? 'a' : 'b')}
                aria-label={`${side === 0 ? 'Left' : 'Right'} is better: ${im.prompt || im.id}`}
              >
                <img src={imageUrl(im.id)} alt={im.prompt || im.id} width={320} height={320} data-testid={side === 0 ? 'left' : 'right'} data-id={im.id} />
              </button>
              <figcaption>{im.prompt}</figcaption>
            </figure>
          ))}
        </div>
      ) : (
        loaded && <p className="muted">The library needs at least two images to compare.</p>
      )}
      <p aria-live="polite" data-testid="compare-status">
        {count} comparisons this session{last ? ` — ${last}` : ''}
      </p>
    </div>
  );
}
