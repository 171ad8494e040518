#!/usr/bin/env node
// Bundles what tsc wrote to dist/ into dist/bundle/ (run by `npm run build` after tsc).
//
// Why: Node's ESM loader resolves, reads, compiles and links each of the ~90 modules a command
// loads one by one, which took ~30 ms of every run (a third of `export csv` on a small capture,
// 3 % on the 180 000-message benchmark file). The bundle is the same code in a few files.
// bin/sipscope uses it unless tsc has rebuilt dist/ after it (a stale bundle is never run).
//
// The CLI and the CSV writer thread are the two entry points; code they share goes to chunks
// beside them, so `new URL('./csv-thread.js', import.meta.url)` still finds the thread's file.
// blessed loads its widgets with computed require() paths and cap is a native addon: both stay
// packages loaded from node_modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/cli/main.js`, `${root}dist/export/csv-thread.js`],
  outdir,
  entryNames: '[name]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['blessed', 'cap'],
  // CommonJS packages bundled into ESM (commander, sdp-transform) require Node's built-ins.
  banner: { js: "import { createRequire as __sipscopeRequire } from 'node:module'; const require = __sipscopeRequire(import.meta.url);" },
  logLevel: 'warning',
});
