/**
 * A shared board: members see each other's cursors and selections, place images, co-write prompt
 * drafts, generate from a draft (everyone sees the live previews and the results), and vote on the
 * candidates (one vote per member). Everything but presence is a Yjs document synced over the server's
 * WebSocket; the server refuses a viewer's changes, and the page then reloads the board as the server has it.
 */
import { useEffect, useRef, useState } from 'react';
import * as Y from 'yjs';
import { api, type ImageRecord, searchImages } from '../api.ts';
import { type BoardLink, type BoardNotice, type BoardUser, connectBoard } from '../boardSync.ts';
import { ErrorBanner, errorText } from '../ErrorBanner.tsx';
import { objectKey } from '../objectKey.ts';
import { bindTextarea } from '../yTextarea.ts';
import '../board.css';

interface Placed {
  imageId: string;
  prompt: string;
  by: string;
  x: number;
  y: number;
}

interface Vote {
  imageId: string;
  name: string;
}

interface Presence {
  clientId: number;
  user: BoardUser;
  cursor?: { x: number; y: number } | null;
  selected?: string | null;
  draft?: number | null;
}

interface Generation {
  jobId: string;
  prompt: string;
  by: string;
  state: string;
  imageIds: string[];
  error?: string;
}

/** The board's Yjs document and its connection; a new one after the server refuses our change. */
function useBoard(id: string, onNotice: (n: BoardNotice) => void) {
  const [board, setBoard] = useState(() => ({ id, doc: new Y.Doc() }));
  // Another board id: a fresh document, set during render so React re-renders before showing the old one.
  if (board.id !== id) setBoard({ id, doc: new Y.Doc() });
  const doc = board.doc;
  const [link, setLink] = useState<BoardLink | null>(null);
  const [status, setStatus] = useState('connecting');
  const noticeRef = useRef(onNotice);
  noticeRef.current = onNotice;
  useEffect(() => {
    const l = connectBoard(
      id,
      doc,
      (n) => {
        noticeRef.current(n);
        if (n.type === 'refused') setTimeout(() => setBoard((b) => ({ id: b.id, doc: new Y.Doc() })), 0);
      },
      setStatus,
    );
    setLink(l);
    return () => {
      l.close();
      doc.destroy();
    };
  }, [id, doc]);
  return { doc, link, status };
}

/** Re-renders whenever the document or presence changes. */
function useSnapshot(doc: Y.Doc, link: BoardLink | null) {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick((t) => t + 1);
    doc.on('update', bump);
    link?.awareness.on('change', bump);
    return () => {
      doc.off('update', bump);
      link?.awareness.off('change', bump);
    };
  }, [doc, link]);
}

export function BoardPage({ id }: { id: string }) {
  const [me, setMe] = useState<BoardUser | null>(null);
  const [role, setRole] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [previews, setPreviews] = useState<Record<string, { step: number; steps: number; preview?: string }>>({});
  const [mine, setMine] = useState<ImageRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const { doc, link, status } = useBoard(id, (n) => {
    if (n.type === 'hello') {
      setRole(n.role);
      setMe(n.user);
    } else if (n.type === 'refused') setNotice(n.reason);
    // Previews come every few steps: keep the last one between them, so the box never goes blank.
    else if (n.type === 'progress')
      setPreviews((p) => {
        const preview = n.progress.preview ?? p[n.jobId]?.preview;
        return { ...p, [n.jobId]: { ...n.progress, ...(preview ? { preview } : {}) } };
      });
  });
  useSnapshot(doc, link);

  useEffect(() => {
    searchImages({}, null, 24)
      .then((p) => setMine(p.images))
      .catch((e) => setError(errorText(e)));
  }, []);

  const items = doc.getArray<Placed>('items');
  const drafts = doc.getArray<Y.Text>('drafts');
  const votes = doc.getMap<Vote>('votes');
  const generations = doc.getMap<Y.Map<unknown>>('generations');
  const awareness = link?.awareness;
  const others: Presence[] = awareness
    ? [...awareness.getStates().entries()]
        .filter(([clientId, s]) => clientId !== doc.clientID && (s as Partial<Presence>).user)
        .map(([clientId, s]) => ({ ...(s as Omit<Presence, 'clientId'>), clientId }))
    : [];
  const myVote = me ? votes.get(me.id) : undefined;
  const counts = new Map<string, string[]>();
  for (const v of votes.values()) counts.set(v.imageId, [...(counts.get(v.imageId) ?? []), v.name]);
  const canEdit = role === 'owner' || role === 'editor';

  const setPresence = (field: 'cursor' | 'selected' | 'draft', value: unknown) => awareness?.setLocalStateField(field, value);
  const [selected, setSelected] = useState<string | null>(null);
  const select = (imageId: string) => {
    const next = selected === imageId ? null : imageId;
    setSelected(next);
    setPresence('selected', next);
  };

  const place = (im: ImageRecord) => {
    // The image joins the collection first, so every member may load it.
    api('POST', `/api/collections/${id}/items`, { imageId: im.id })
      .catch(() => undefined) // a viewer may not add: the board edit below is then refused and shown
      .finally(() =>
        items.push([{ imageId: im.id, prompt: im.prompt, by: me?.name ?? '', x: (items.length % 6) * 150, y: Math.floor(items.length / 6) * 150 }]),
      );
  };
  const vote = (imageId: string) => {
    if (!me) return;
    if (myVote?.imageId === imageId) votes.delete(me.id);
    else votes.set(me.id, { imageId, name: me.name });
  };
  const generateFrom = (draft: Y.Text) =>
    api('POST', `/api/boards/${id}/generate`, { prompt: draft.toString(), steps: 20, batchSize: 2 }).catch((e) => setError(errorText(e)));

  const canvasRef = useRef<HTMLElement>(null);
  // At most one cursor message per 30 ms, and always the last position (a trailing send).
  const cursorSend = useRef<{ at: number; timer: ReturnType<typeof setTimeout> | null; pending: { x: number; y: number } | null }>({
    at: 0,
    timer: null,
    pending: null,
  });
  const onPointerMove = (e: React.PointerEvent) => {
    if (!canvasRef.current) return;
    const r = canvasRef.current.getBoundingClientRect();
    const c = cursorSend.current;
    c.pending = { x: Math.round(e.clientX - r.left), y: Math.round(e.clientY - r.top) };
    const flush = () => {
      c.timer = null;
      c.at = performance.now();
      setPresence('cursor', c.pending);
    };
    const wait = 30 - (performance.now() - c.at);
    if (wait <= 0) flush();
    else c.timer ??= setTimeout(flush, wait);
  };

  const generationList: Generation[] = [...generations.entries()]
    .map(([jobId, g]) => ({
      jobId,
      prompt: String(g.get('prompt') ?? ''),
      by: String(g.get('by') ?? ''),
      state: String(g.get('state') ?? ''),
      imageIds: (g.get('imageIds') as string[] | undefined) ?? [],
      ...(g.get('error') ? { error: String(g.get('error')) } : {}),
    }))
    .reverse();

  return (
    <div className="board">
      <p className="muted" data-testid="board-status">
        Board {id} · {status}
        {role ? ` · your role: ${role}` : ''}
        {role === 'viewer' ? ' (you watch; the server refuses changes from viewers)' : ''}
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {notice && (
        <p role="alert" className="error" data-testid="board-notice">
          {notice}
        </p>
      )}
      <ul className="board-members" aria-label="Members here">
        {me && (
          <li style={{ borderColor: me.colour }} data-testid="member">
            {me.name} (you)
          </li>
        )}
        {others.map((p) => (
          <li key={p.clientId} style={{ borderColor: p.user.colour }} data-testid="member">
            {p.user.name} · {p.user.role}
            {p.draft != null ? ` · writing draft ${p.draft + 1}` : ''}
          </li>
        ))}
      </ul>
      <section
        aria-label="Board"
        className="board-canvas"
        ref={canvasRef}
        onPointerMove={onPointerMove}
        onPointerLeave={() => {
          const c = cursorSend.current;
          if (c.timer) clearTimeout(c.timer);
          c.timer = null;
          setPresence('cursor', null);
        }}
        style={{ minHeight: Math.max(340, Math.ceil(items.length / 6) * 150 + 60) }}
      >
        {items.toArray().map((p) => {
          const selectors = others.filter((o) => o.selected === p.imageId);
          const voters = counts.get(p.imageId) ?? [];
          const outline = selectors[0]?.user.colour ?? (selected === p.imageId ? me?.colour : undefined);
          return (
            <figure
              key={objectKey(p)}
              style={{ left: p.x, top: p.y, ...(outline ? { outline: `3px solid ${outline}` } : {}) }}
              data-testid="placed"
              data-id={p.imageId}
            >
              <button
                type="button"
                className="board-pick"
                onClick={() => select(p.imageId)}
                aria-pressed={selected === p.imageId}
                aria-label={`Select ${p.prompt || p.imageId}`}
              >
                <img src={`/api/collections/${id}/images/${p.imageId}/png`} alt={p.prompt || p.imageId} width={128} height={128} />
              </button>
              <figcaption>
                placed by {p.by}
                {selectors.map((s) => (
                  <span key={s.clientId} className="board-tag" style={{ background: s.user.colour }} data-testid="remote-selection">
                    {s.user.name}
                  </span>
                ))}
              </figcaption>
              <button
                type="button"
                className="board-vote"
                onClick={() => vote(p.imageId)}
                aria-pressed={myVote?.imageId === p.imageId}
                disabled={!canEdit}
                title={voters.join(', ')}
                data-testid="vote"
              >
                ▲ <span data-testid="vote-count">{voters.length}</span>
              </button>
            </figure>
          );
        })}
        {others
          .filter((o) => o.cursor)
          .map((o) => (
            <div
              key={o.clientId}
              className="board-cursor"
              style={{ transform: `translate(${o.cursor?.x ?? 0}px, ${o.cursor?.y ?? 0}px)`, color: o.user.colour }}
              data-testid="remote-cursor"
              data-member={o.user.name}
              aria-hidden="true"
            >
              <svg width="14" height="18" viewBox="0 0 14 18" role="presentation">
                <path d="M0 0 L14 11 L7 11 L4 18 Z" fill="currentColor" />
              </svg>
              <span style={{ background: o.user.colour }}>{o.user.name}</span>
            </div>
          ))}
      </section>

      <h2>Prompt drafts</h2>
      <div className="board-drafts">
        {drafts.toArray().map((t, i) => (
          <Draft
            key={objectKey(t)}
            index={i}
            text={t}
            readOnly={!canEdit}
            onFocus={(f) => setPresence('draft', f ? i : null)}
            onGenerate={() => generateFrom(t)}
          />
        ))}
        {canEdit && (
          <button type="button" onClick={() => drafts.push([new Y.Text()])}>
            New draft
          </button>
        )}
      </div>

      {generationList.length > 0 && (
        <>
          <h2>Generations</h2>
          <ul className="board-generations" aria-label="Generations">
            {generationList.map((g) => {
              const p = previews[g.jobId];
              return (
                <li key={g.jobId} data-testid="generation" data-state={g.state}>
                  <div className="board-preview">
                    {p?.preview && g.state !== 'done' ? (
                      <img src={`data:image/png;base64,${p.preview}`} alt={`Preview at step ${p.step}`} width={96} height={96} data-testid="board-preview" />
                    ) : (
                      <span className="muted">{g.state === 'done' ? '✓' : '…'}</span>
                    )}
                  </div>
                  <div>
                    <strong>{g.prompt}</strong> · by {g.by} · <span data-testid="generation-state">{g.state}</span>
                    {p && g.state === 'running' ? ` · step ${p.step}/${p.steps}` : ''}
                    {g.error ? ` · ${g.error}` : ''}
                  </div>
                </li>
              );
            })}
          </ul>
        </>
      )}

      {(canEdit || mine.length > 0) && <h2>Your images</h2>}
      {canEdit && mine.length === 0 && <p className="muted">Your library is empty: generate or import images to place them here.</p>}
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

function Draft({
  index,
  text,
  readOnly,
  onFocus,
  onGenerate,
}: {
  index: number;
  text: Y.Text;
  readOnly: boolean;
  onFocus: (focused: boolean) => void;
  onGenerate: () => void;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => (ref.current ? bindTextarea(text, ref.current) : undefined), [text]);
  return (
    <div className="board-draft">
      <label htmlFor={`draft-${index}`}>Draft {index + 1}</label>
      <textarea id={`draft-${index}`} ref={ref} rows={3} readOnly={readOnly} onFocus={() => onFocus(true)} onBlur={() => onFocus(false)} data-testid="draft" />
      {!readOnly && (
        <button type="button" onClick={onGenerate}>
          Generate from draft {index + 1}
        </button>
      )}
    </div>
  );
}
