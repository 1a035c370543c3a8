/**
 * A shared board: images placed by any member appear for everyone at once (a Yjs array synced over the
 * server's WebSocket). Owners and editors place images; a viewer watches (the server refuses their edits).
 */
import { useEffect, useMemo, useState } from 'react';
import * as Y from 'yjs';
import { api, type ImageRecord, searchImages } from '../api.ts';
import { type BoardNotice, connectBoard } from '../boardSync.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';

interface Placed {
  imageId: string;
  prompt: string;
  by: string;
  x: number;
  y: number;
}

export function BoardPage({ id }: { id: string }) {
  const doc = useMemo(() => new Y.Doc(), [id]);
  const items = useMemo(() => doc.getArray<Placed>('items'), [doc]);
  const [placed, setPlaced] = useState<Placed[]>([]);
  const [role, setRole] = useState<string | null>(null);
  const [status, setStatus] = useState('connecting');
  const [notice, setNotice] = useState<string | null>(null);
  const [mine, setMine] = useState<ImageRecord[]>([]);
  const [me, setMe] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const refresh = () => setPlaced(items.toArray());
    items.observe(refresh);
    const stop = connectBoard(id, doc, (n: BoardNotice) => (n.type === 'hello' ? setRole(n.role ?? null) : setNotice(n.reason ?? 'refused')), setStatus);
    api<{ name: string }>('GET', '/api/me')
      .then((u) => setMe(u.name))
      .catch((e) => setError(errorText(e)));
    searchImages({}, null, 24)
      .then((p) => setMine(p.images))
      .catch((e) => setError(errorText(e)));
    return () => {
      items.unobserve(refresh);
      stop();
      doc.destroy();
    };
  }, [id, doc, items]);

  const place = (im: ImageRecord) =>
    items.push([{ imageId: im.id, prompt: im.prompt, by: me, x: (items.length % 6) * 150, y: Math.floor(items.length / 6) * 150 }]);

  return (
    <div className="board">
      <p className="muted" data-testid="board-status">
        Board {id} · {status}
        {role ? ` · your role: ${role}` : ''}
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {notice && (
        <p role="alert" className="error" data-testid="board-notice">
          {notice}
        </p>
      )}
      <section aria-label="Board" className="board-canvas">
        {placed.map((p, i) => (
          <figure key={`${p.imageId}-${i}`} style={{ left: p.x, top: p.y }} data-testid="placed" data-id={p.imageId}>
            <img src={`/api/collections/${id}/images/${p.imageId}/png`} alt={p.prompt || p.imageId} width={128} height={128} />
            <figcaption>placed by {p.by}</figcaption>
          </figure>
        ))}
      </section>
      <h2>Your images</h2>
      <ul className="results" aria-label="Your images">
        {mine.map((im) => (
          <li key={im.id}>
            <button type="button" onClick={() => place(im)} aria-label={`Place ${im.prompt || im.id} on the board`} data-testid="place">
              <img src={`/api/images/${im.id}/png`} alt="" width={72} height={72} />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
