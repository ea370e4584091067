import path from 'node:path';
import { build } from 'vite';

/** Where the browser suite's copy of the web app is built (not web/dist, which `npm start` serves). */
export const TEST_WEB_DIR = path.resolve('node_modules/.cache/haven-web-test');

/** Builds the web app once for the whole browser suite, as `npm run build` does. */
export default async function setup() {
  await build({
    configFile: path.resolve('web/vite.config.ts'),
    logLevel: 'warn',
    // The production build as it ships: maps moved out of the served files, assets pre-compressed.
    build: { outDir: TEST_WEB_DIR, emptyOutDir: true },
  });
}
