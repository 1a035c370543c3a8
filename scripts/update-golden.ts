// Rewrites the golden images (test/golden/images/*.png and images.json) with this checkout and this
// machine's runtime. Run it only for an intended change of gesso's numbers, and add a CHANGELOG.md entry
// that says what changed and why. Usage: npm run golden:update
import { writeAll, writeFileAtomic } from '../src/weights/file-io.ts';
import { writeImageFile } from '../src/image/write-image.ts';
import { loadModel } from '../src/pipelines/model-folder.ts';
import { runtimeInfo } from '../src/runtime/runtime-info.ts';
import { GOLDEN_CASES, GOLDEN_DIR, MANIFEST_PATH, renderCase, type GoldenManifest } from '../test/golden/golden-images.ts';
import { join } from 'node:path';

const model = await loadModel();
try {
  const manifest: GoldenManifest = { runtime: runtimeInfo(), images: [] };
  for (const c of GOLDEN_CASES) {
    const image = await renderCase(model, c);
    await writeImageFile(join(GOLDEN_DIR, `${c.name}.png`), image.bytes, image.width, image.height, 3);
    manifest.images.push({ name: c.name, width: image.width, height: image.height, sha256: image.sha256 });
    console.log(`${c.name}: ${image.width}x${image.height} ${image.sha256}`);
  }
  writeFileAtomic(MANIFEST_PATH, (fd) => writeAll(fd, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
  console.log(`wrote ${MANIFEST_PATH} (${manifest.runtime.ort}, ${manifest.runtime.cpu}); now say why in CHANGELOG.md`);
} finally {
  await model.release();
}
