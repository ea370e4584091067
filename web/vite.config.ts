import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app is served by Haven itself (same origin, same port); `npm run dev:web` proxies the
// API to a running `npm start` for working on the pages.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: process.env.HAVEN_WEB_OUT_DIR ?? 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    proxy: { '/api': process.env.HAVEN_URL ?? 'http://127.0.0.1:3000' },
  },
});
