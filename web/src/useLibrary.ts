/** Pages through the library for a filter: the first page at once, more as the grid scrolls near the end. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { type ImageFilter, type ImageRecord, searchImages } from './api.ts';
import { errorText } from './ErrorBanner.tsx';

export function useLibrary(filter: ImageFilter) {
  const [images, setImages] = useState<ImageRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const key = JSON.stringify(filter);

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    searchImages(JSON.parse(key) as ImageFilter, null)
      .then((page) => {
        if (mine !== generation.current) return;
        setImages(page.images);
        setCursor(page.nextCursor);
        setError(null);
      })
      .catch((e) => mine === generation.current && setError(errorText(e)))
      .finally(() => mine === generation.current && setLoading(false));
  }, [key]);

  const loadMore = useCallback(() => {
    if (loading || cursor === null) return;
    const mine = generation.current;
    setLoading(true);
    searchImages(JSON.parse(key) as ImageFilter, cursor)
      .then((page) => {
        if (mine !== generation.current) return;
        setImages((old) => [...old, ...page.images]);
        setCursor(page.nextCursor);
      })
      .catch((e) => setError(errorText(e)))
      .finally(() => setLoading(false));
  }, [loading, cursor, key]);

  /** Puts an updated record in place (after a rating, tag or favourite). */
  const replace = useCallback((image: ImageRecord) => setImages((old) => old.map((i) => (i.id === image.id ? image : i))), []);

  return { images, loadMore, hasMore: cursor !== null, loading, error, setError, replace };
}
