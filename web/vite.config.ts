// Builds the studio into web/dist, which `gesso serve` serves at /. `npm run dev:web` proxies the API
// to a `gesso serve` on 127.0.0.1:7860.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, reportCompressedSize: false },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:7860', ws: true } } },
});
