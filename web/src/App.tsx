import { ComparePage } from './pages/ComparePage.tsx';
import { GeneratePage } from './pages/GeneratePage.tsx';
import { ImagePage } from './pages/ImagePage.tsx';
import { LibraryPage } from './pages/LibraryPage.tsx';
import { useRoute } from './route.ts';

const NAV = [
  ['generate', 'Generate'],
  ['library', 'Library'],
  ['compare', 'Compare'],
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
      </main>
    </>
  );
}
