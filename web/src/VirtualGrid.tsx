/**
 * A grid that renders only the rows in view (plus a margin), so thousands of images cost the same as a
 * screenful. Tiles are square with a fixed size: rows have a known height and nothing shifts as
 * thumbnails load.
 */
import { type ReactNode, useEffect, useLayoutEffect, useRef, useState } from 'react';

const TILE = 168; // px, tile + gap
const OVERSCAN = 3; // rows above and below the view

export function VirtualGrid<T>({
  items,
  render,
  onNearEnd,
  scrollToIndex,
  label,
  activeId,
  onKeyDown,
}: {
  items: T[];
  render: (item: T, index: number) => ReactNode;
  onNearEnd: () => void;
  scrollToIndex: number;
  label: string;
  activeId: string | undefined;
  onKeyDown: (e: React.KeyboardEvent<HTMLDivElement>, columns: number) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 800, height: 600 });
  const [scrollTop, setScrollTop] = useState(0);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    observer.observe(el);
    setSize({ width: el.clientWidth, height: el.clientHeight });
    return () => observer.disconnect();
  }, []);

  const columns = Math.max(1, Math.floor(size.width / TILE));
  const rows = Math.ceil(items.length / columns);
  const first = Math.max(0, Math.floor(scrollTop / TILE) - OVERSCAN);
  const last = Math.min(rows, Math.ceil((scrollTop + size.height) / TILE) + OVERSCAN);

  useEffect(() => {
    if (last >= rows - OVERSCAN) onNearEnd();
  }, [last, rows, onNearEnd]);

  // Keep the active tile in view when the keyboard moves it.
  useEffect(() => {
    const el = box.current;
    if (!el || scrollToIndex < 0) return;
    const top = Math.floor(scrollToIndex / columns) * TILE;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + TILE > el.scrollTop + el.clientHeight) el.scrollTop = top + TILE - el.clientHeight;
  }, [scrollToIndex, columns]);

  const cells: ReactNode[] = [];
  for (let i = first * columns; i < Math.min(items.length, last * columns); i++) {
    const item = items[i] as T;
    cells.push(
      <div key={i} className="cell" style={{ top: Math.floor(i / columns) * TILE, left: (i % columns) * TILE, width: TILE - 8, height: TILE - 8 }}>
        {render(item, i)}
      </div>,
    );
  }
  return (
    <div
      ref={box}
      className="vgrid"
      role="listbox"
      aria-label={label}
      tabIndex={0}
      aria-activedescendant={activeId}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onKeyDown={(e) => onKeyDown(e, columns)}
    >
      <div style={{ height: rows * TILE, position: 'relative' }}>{cells}</div>
    </div>
  );
}
