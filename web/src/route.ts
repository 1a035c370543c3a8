/** Hash routes (#/library, #/image/img_…): the server only has to serve index.html. */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'generate' }
  | { page: 'library' }
  | { page: 'compare' }
  | { page: 'image'; id: string }
  | { page: 'board'; id: string }
  | { page: 'explore' }
  | { page: 'style' }
  | { page: 'train' }
  | { page: 'models' }
  | { page: 'taste' };

const SIMPLE = ['library', 'compare', 'explore', 'style', 'train', 'models', 'taste'] as const;

export function parseRoute(hash: string): Route {
  const [, page, arg] = hash.replace(/^#/, '').split('/');
  const simple = SIMPLE.find((p) => p === page);
  if (simple) return { page: simple };
  if (page === 'image' && arg) return { page: 'image', id: arg };
  if (page === 'board' && arg) return { page: 'board', id: arg };
  return { page: 'generate' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function go(hash: string): void {
  location.hash = hash;
}
