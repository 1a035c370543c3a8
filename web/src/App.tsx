import { lazy, Suspense } from 'react';
import { ComparePage } from './pages/ComparePage.tsx';
import { GeneratePage } from './pages/GeneratePage.tsx';
import { ImagePage } from './pages/ImagePage.tsx';
import { LibraryPage } from './pages/LibraryPage.tsx';
import { useRoute } from './route.ts';

// Yjs is only needed on a board: load it (and the page) when a board is opened.
const BoardPage = lazy(() => import('./pages/BoardPage.tsx').then((m) => ({ default: m.BoardPage })));
// The other pages load when first opened: the first paint (Generate / Library) stays small.
const ExplorePage = lazy(() => import('./pages/ExplorePage.tsx').then((m) => ({ default: m.ExplorePage })));
const StylePage = lazy(() => import('./pages/StylePage.tsx').then((m) => ({ default: m.StylePage })));
const TrainPage = lazy(() => import('./pages/TrainPage.tsx').then((m) => ({ default: m.TrainPage })));
const ModelsPage = lazy(() => import('./pages/ModelsPage.tsx').then((m) => ({ default: m.ModelsPage })));
const TastePage = lazy(() => import('./pages/TastePage.tsx').then((m) => ({ default: m.TastePage })));

const NAV = [
  ['generate', 'Generate'],
  ['library', 'Library'],
  ['compare', 'Compare'],
  ['explore', 'Explore'],
  ['style', 'Style'],
  ['train', 'Train'],
  ['models', 'Models'],
  ['taste', 'Taste'],
] as const;

export function App() {
  const route = useRoute();
  return (
    <>
      <header className="top">
        <span className="brand">gesso studio</span>
        <nav aria-label="Pages">
          {NAV.map(([page, label]) => (
            <a key={page} href={`#/${page}`} aria-current={route.page === page ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {route.page === 'generate' && <GeneratePage />}
        {route.page === 'library' && <LibraryPage />}
        {route.page === 'compare' && <ComparePage />}
        {route.page === 'image' && <ImagePage id={route.id} />}
        {route.page === 'taste' && (
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <TastePage />
          </Suspense>
        )}
        {route.page === 'board' && (
          <Suspense fallback={<p className="muted">Loading the board…</p>}>
            <BoardPage id={route.id} />
          </Suspense>
        )}
        <Suspense fallback={<p className="muted">Loading…</p>}>
          {route.page === 'explore' && <ExplorePage />}
          {route.page === 'style' && <StylePage />}
          {route.page === 'train' && <TrainPage />}
          {route.page === 'models' && <ModelsPage />}
        </Suspense>
      </main>
    </>
  );
}
