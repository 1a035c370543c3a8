/**
 * Library: search and filters, a virtualised grid, and curation from the keyboard — arrows move,
 * 1–5 rate (0 clears), F toggles favourite, T goes to the tag field, Enter opens the image page.
 */
import { type KeyboardEvent, useCallback, useEffect, useRef, useState } from 'react';
import { addTags, type ImageFilter, type ImageRecord, imageUrl, patchImage, removeTag } from '../api.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';
import { go } from '../route.ts';
import { useLibrary } from '../useLibrary.ts';
import { VirtualGrid } from '../VirtualGrid.tsx';

const stars = (n: number | null) => (n ? '★'.repeat(n) + '☆'.repeat(5 - n) : 'unrated');

export function LibraryPage() {
  const [text, setText] = useState('');
  const [filter, setFilter] = useState<ImageFilter>({});
  const lib = useLibrary(filter);
  const [active, setActive] = useState(0);
  const [tagDraft, setTagDraft] = useState('');
  const tagInput = useRef<HTMLInputElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const image: ImageRecord | undefined = lib.images[active];

  // A new filter starts again at the first image.
  const changeFilter = (change: (f: ImageFilter) => ImageFilter) => {
    setFilter(change);
    setActive(0);
  };
  // Search as the user types, after a short pause.
  useEffect(() => {
    const t = setTimeout(() => {
      setFilter((f) => ({ ...f, q: text.trim() || undefined }));
      setActive(0);
    }, 250);
    return () => clearTimeout(t);
  }, [text]);

  const update = useCallback(
    async (change: Promise<ImageRecord>) => {
      try {
        lib.replace(await change);
      } catch (e) {
        lib.setError(errorText(e));
      }
    },
    [lib],
  );

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>, columns: number) {
    const n = lib.images.length;
    if (n === 0) return;
    const move: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns, PageDown: columns * 4, PageUp: -columns * 4 };
    if (e.key in move) {
      e.preventDefault();
      setActive((a) => Math.min(n - 1, Math.max(0, a + (move[e.key] ?? 0))));
    } else if (e.key === 'Home') setActive(0);
    else if (e.key === 'End') setActive(n - 1);
    else if (!image) return;
    else if (/^[0-5]$/.test(e.key)) void update(patchImage(image.id, { rating: e.key === '0' ? null : Number(e.key) }));
    else if (e.key === 'f' || e.key === 'F') void update(patchImage(image.id, { favourite: !image.favourite }));
    else if (e.key === 'x' || e.key === 'X') void update(patchImage(image.id, { rejected: !image.rejected }));
    else if (e.key === 't' || e.key === 'T') {
      e.preventDefault();
      tagInput.current?.focus();
    } else if (e.key === 'Enter') go(`#/image/${image.id}`);
  }

  async function submitTag(e: React.FormEvent) {
    e.preventDefault();
    const tags = tagDraft
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (!image || tags.length === 0) return;
    await update(addTags(image.id, tags));
    setTagDraft('');
    grid.current?.querySelector<HTMLElement>('.vgrid')?.focus();
  }

  return (
    <div className="library">
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="prompt, tag, note" />
        </label>
        <label>
          Minimum rating
          <select
            value={filter.minRating ?? ''}
            onChange={(e) => changeFilter((f) => ({ ...f, minRating: e.target.value ? Number(e.target.value) : undefined }))}
          >
            <option value="">any</option>
            {[1, 2, 3, 4, 5].map((r) => (
              <option key={r} value={r}>
                {r}+
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <input value={filter.tag ?? ''} onChange={(e) => changeFilter((f) => ({ ...f, tag: e.target.value.trim() || undefined }))} />
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={filter.favourite ?? false}
            onChange={(e) => changeFilter((f) => ({ ...f, favourite: e.target.checked || undefined }))}
          />{' '}
          Favourites
        </label>
        <span className="muted" aria-live="polite">
          {lib.images.length}
          {lib.hasMore ? '+' : ''} images
        </span>
      </form>
      <ErrorBanner error={lib.error} onDismiss={() => lib.setError(null)} />
      <p className="hint" id="library-keys">
        Keys: arrows move · 1–5 rate, 0 clears · F favourite · X reject · T tag · Enter opens
      </p>
      <div className="library-body">
        <div ref={grid} className="grid-wrap" aria-describedby="library-keys">
          <VirtualGrid
            items={lib.images}
            label="Images"
            activeId={image ? `tile-${image.id}` : undefined}
            scrollToIndex={active}
            onNearEnd={lib.loadMore}
            onKeyDown={onKeyDown}
            render={(im, i) => (
              // biome-ignore lint/a11y/useKeyWithClickEvents: the listbox takes the keys for its options (aria-activedescendant)
              <div
                id={`tile-${im.id}`}
                role="option"
                tabIndex={-1}
                aria-selected={i === active}
                aria-label={`${im.prompt || im.id}, ${stars(im.rating)}${im.favourite ? ', favourite' : ''}`}
                className={`tile${i === active ? ' active' : ''}${im.rejected ? ' rejected' : ''}`}
                onClick={(e) => {
                  setActive(i);
                  // Keys go to the listbox (aria-activedescendant), so it takes the focus, not the tile.
                  e.currentTarget.closest<HTMLElement>('.vgrid')?.focus();
                }}
                onDoubleClick={() => go(`#/image/${im.id}`)}
                data-testid="tile"
              >
                <img src={imageUrl(im.id)} alt="" loading="lazy" width={160} height={160} />
                <span className="badges" aria-hidden="true">
                  {im.favourite ? '♥ ' : ''}
                  {im.rating ? '★'.repeat(im.rating) : ''}
                </span>
              </div>
            )}
          />
        </div>
        <aside className="details" aria-label="Selected image">
          {image ? (
            <>
              <a href={`#/image/${image.id}`}>
                <img src={imageUrl(image.id)} alt={image.prompt} className="big" />
              </a>
              <p className="prompt">{image.prompt || <em>no prompt</em>}</p>
              <p data-testid="rating">
                Rating: {stars(image.rating)}
                {image.favourite ? ' · favourite' : ''}
                {image.rejected ? ' · rejected' : ''}
              </p>
              <ul className="tags" aria-label="Tags">
                {image.tags.map((t) => (
                  <li key={t}>
                    {t}{' '}
                    <button type="button" aria-label={`Remove tag ${t}`} onClick={() => update(removeTag(image.id, t))}>
                      ×
                    </button>
                  </li>
                ))}
              </ul>
              <form onSubmit={submitTag}>
                <label>
                  Add tags (comma separated)
                  <input ref={tagInput} value={tagDraft} onChange={(e) => setTagDraft(e.target.value)} />
                </label>
              </form>
            </>
          ) : (
            <p className="muted">{lib.loading ? 'Loading…' : 'No images yet: make some on the Generate page.'}</p>
          )}
        </aside>
      </div>
    </div>
  );
}
