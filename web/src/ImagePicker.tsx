/** Choose one library image (recent ones as thumbnails, or search), or upload a PNG into the library. */
import { useEffect, useId, useState } from 'react';
import { type ImageRecord, imageUrl, importImage, searchImages } from './api.ts';
import { errorText } from './ErrorBanner.tsx';

export function ImagePicker({
  label,
  value,
  onChange,
  onError,
}: {
  label: string;
  value: string | null;
  onChange: (id: string) => void;
  onError: (e: string) => void;
}) {
  const [q, setQ] = useState('');
  const [images, setImages] = useState<ImageRecord[]>([]);
  const name = useId();
  useEffect(() => {
    const timer = window.setTimeout(() => {
      searchImages(q ? { q } : {}, null, 24)
        .then((page) => setImages(page.images))
        .catch((e) => onError(errorText(e)));
    }, 200);
    return () => window.clearTimeout(timer);
  }, [q, onError]);

  async function upload(file: File | undefined) {
    if (!file) return;
    try {
      const record = await importImage(file, file.name);
      setImages((list) => [record, ...list.filter((i) => i.id !== record.id)]);
      onChange(record.id);
    } catch (e) {
      onError(errorText(e));
    }
  }

  return (
    <fieldset className="picker">
      <legend>{label}</legend>
      <div className="picker-bar">
        <input type="search" aria-label={`${label}: search the library`} placeholder="search the library" value={q} onChange={(e) => setQ(e.target.value)} />
        <label className="upload">
          Upload PNG
          <input type="file" accept="image/png" onChange={(e) => upload(e.target.files?.[0])} />
        </label>
      </div>
      <div className="picker-grid" role="radiogroup" aria-label={label}>
        {images.map((im) => (
          <label key={im.id} className="picker-item" title={im.prompt}>
            <input type="radio" name={name} value={im.id} checked={value === im.id} onChange={() => onChange(im.id)} aria-label={`${im.prompt || im.id}`} />
            <img className="picker-thumb" src={imageUrl(im.id)} alt="" width={64} height={64} loading="lazy" />
          </label>
        ))}
        {images.length === 0 && <p className="muted">No images yet: generate some, or upload a PNG.</p>}
      </div>
    </fieldset>
  );
}
