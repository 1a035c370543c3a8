/**
 * Paint an inpainting mask over the init image: brush and eraser, brush size ([ and ] keys too), clear.
 * Strokes are kept on a canvas at the image's own size; what the server gets is a PNG of the same size,
 * white where painted (repainted) and black elsewhere. The box has a fixed size, so nothing shifts.
 */
import { type PointerEvent, useEffect, useRef, useState } from 'react';
import { imageUrl } from './api.ts';

export function MaskPainter({ imageId, onChange }: { imageId: string; onChange: (mask: string | null) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [tool, setTool] = useState<'brush' | 'eraser'>('brush');
  const [brush, setBrush] = useState(8);
  const painting = useRef(false);
  const last = useRef<{ x: number; y: number } | null>(null);

  // The canvas takes the image's own size (the mask must match the init image pixel for pixel).
  useEffect(() => {
    const img = new Image();
    img.onload = () => setSize({ w: img.naturalWidth, h: img.naturalHeight });
    img.src = imageUrl(imageId);
    onChange(null);
  }, [imageId, onChange]);

  const point = (e: PointerEvent<HTMLCanvasElement>) => {
    const c = canvas.current as HTMLCanvasElement;
    const r = c.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * c.width, y: ((e.clientY - r.top) / r.height) * c.height };
  };

  const stroke = (to: { x: number; y: number }) => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const from = last.current ?? to;
    ctx.globalCompositeOperation = tool === 'eraser' ? 'destination-out' : 'source-over';
    ctx.strokeStyle = 'rgb(255, 40, 40)';
    // The brush size is in screen pixels: what the user sees, whatever the image's own size.
    ctx.lineWidth = brush * (c.width / c.getBoundingClientRect().width);
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    last.current = to;
  };

  /** The strokes as a black-and-white PNG data URL, or null when nothing is painted. */
  const exportMask = (): string | null => {
    const c = canvas.current;
    if (!c) return null;
    const strokes = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
    if (!strokes?.some((v, i) => i % 4 === 3 && v > 0)) return null;
    const out = document.createElement('canvas');
    [out.width, out.height] = [c.width, c.height];
    const ctx = out.getContext('2d') as CanvasRenderingContext2D;
    const data = ctx.createImageData(c.width, c.height);
    for (let i = 0; i < data.data.length; i += 4) {
      const v = (strokes[i + 3] as number) >= 128 ? 255 : 0;
      data.data.set([v, v, v, 255], i);
    }
    ctx.putImageData(data, 0, 0);
    return out.toDataURL('image/png');
  };

  const end = () => {
    if (!painting.current) return;
    painting.current = false;
    last.current = null;
    onChange(exportMask());
  };

  const clear = () => {
    const c = canvas.current;
    c?.getContext('2d')?.clearRect(0, 0, c.width, c.height);
    onChange(null);
  };

  return (
    <fieldset className="mask-painter">
      <legend>Inpainting mask</legend>
      <div className="mask-box">
        <img src={imageUrl(imageId)} alt="Init, under the mask" />
        {size && (
          <canvas
            ref={canvas}
            width={size.w}
            height={size.h}
            tabIndex={0}
            aria-label={`Mask canvas: paint the area to repaint (${tool}, size ${brush}; [ and ] change the size)`}
            data-testid="mask-canvas"
            onPointerDown={(e) => {
              e.currentTarget.setPointerCapture(e.pointerId);
              painting.current = true;
              stroke(point(e));
            }}
            onPointerMove={(e) => painting.current && stroke(point(e))}
            onPointerUp={end}
            onPointerCancel={end}
            onKeyDown={(e) => {
              if (e.key === '[') setBrush((b) => Math.max(1, b - 2));
              if (e.key === ']') setBrush((b) => Math.min(64, b + 2));
            }}
          />
        )}
      </div>
      <div className="mask-tools">
        <div role="radiogroup" aria-label="Tool" className="segmented">
          <label>
            <input type="radio" name="mask-tool" checked={tool === 'brush'} onChange={() => setTool('brush')} /> Brush
          </label>
          <label>
            <input type="radio" name="mask-tool" checked={tool === 'eraser'} onChange={() => setTool('eraser')} /> Eraser
          </label>
        </div>
        <label>
          <span>
            Brush size <span className="value">{brush}</span>
          </span>
          <input type="range" min={1} max={64} value={brush} onChange={(e) => setBrush(Number(e.target.value))} />
        </label>
        <button type="button" onClick={clear}>
          Clear mask
        </button>
      </div>
    </fieldset>
  );
}
