import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const outDir = process.env.HAVEN_WEB_OUT_DIR ?? 'dist';
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt)$/;

/**
 * After the build: source maps move out of the served directory (to `<outDir>-sourcemaps`, for
 * reading a stack trace a school sends, never served), and every text asset gains `.br` and `.gz`
 * twins that Haven's static files serve to browsers that accept them (`preCompressed`).
 */
function shipForProduction(): Plugin {
  let root = '';
  return {
    name: 'haven-ship-for-production',
    apply: 'build',
    configResolved(config) {
      root = path.resolve(config.root, config.build.outDir);
    },
    buildStart() {
      rmSync(`${root}-sourcemaps`, { recursive: true, force: true });
    },
    closeBundle() {
      const maps = `${root}-sourcemaps`;
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const file = path.join(dir, name);
          return statSync(file).isDirectory() ? walk(file) : [file];
        });
      for (const file of walk(root)) {
        if (file.endsWith('.map')) {
          const target = path.join(maps, path.relative(root, file));
          mkdirSync(path.dirname(target), { recursive: true });
          renameSync(file, target);
          continue;
        }
        if (!COMPRESSIBLE.test(file)) continue;
        const body = readFileSync(file);
        if (body.length < 1024) continue;
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
      }
    },
  };
}

// The web app is served by Haven itself (same origin, same port); `npm run dev:web` proxies the
// API to a running `npm start` for working on the pages.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), shipForProduction()],
  build: {
    outDir,
    emptyOutDir: true,
    // Written for the maintainers (moved out of the served files above), never linked from the
    // bundles: `hidden` leaves out the `sourceMappingURL` comment.
    sourcemap: 'hidden',
  },
  server: {
    proxy: { '/api': process.env.HAVEN_URL ?? 'http://127.0.0.1:3000' },
  },
});
