/**
 * Export: an image is its stored PNG (generated images carry A1111 parameters, the gesso recipe and XMP
 * provenance; imported ones are the original file). A collection is a tar of those PNGs plus
 * metadata.json with each image's library record (ratings, tags, notes, lineage).
 */
import type { Collections } from './collections.ts';
import type { Library } from './library.ts';
import { tarArchive, type TarEntry } from './tar.ts';

export async function exportCollection(library: Library, collections: Collections, userId: string, collectionId: string): Promise<Buffer> {
  const collection = collections.get(userId, collectionId);
  const images = collections.items(userId, collectionId);
  const entries: TarEntry[] = [];
  for (const image of images) entries.push({ name: `${image.id}.png`, bytes: await library.store.get(image.sha256), mtimeMs: image.createdAt });
  const metadata = { collection: { id: collection.id, name: collection.name }, images: images.map((i) => ({ ...i, file: `${i.id}.png` })) };
  entries.push({ name: 'metadata.json', bytes: Buffer.from(JSON.stringify(metadata, null, 2)) });
  return tarArchive(entries);
}
