#!/usr/bin/env node
// Bundles the page side of the tweak panel (lib/plots/tweak-page.ts and what it imports from lib:
// the re-scoring of lib/dknn/rescore.ts and lib/conformal/, the summary, the figures) for the browser
// into lib/dist/page/dknn-tweak.js, an IIFE that sets window.__dknnTweak; lib/plots/tweak-panel.ts
// inlines it into each panel. Run by `npm run build`.
//   node scripts/build-page-bundle.mjs [--out FILE]
// Node built-ins and tfjs are stubbed: the page's code must not reach them, and the build fails if
// any of them is still in the bundle after tree shaking.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? resolve(args[outIdx + 1] ?? '') : join(root, 'lib', 'dist', 'page', 'dknn-tweak.js');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (e) {
  console.error(`build-page-bundle: esbuild is not installed (${e.message}); run npm ci`);
  process.exit(1);
}

/** Resolves Node built-ins and tfjs to an empty module, in its own namespace so the check below finds them. */
const stub = {
  name: 'stub-node',
  setup(build) {
    build.onResolve({ filter: /^(node:|@tensorflow\/|fs$|path$|zlib$|os$|crypto$)/ }, (a) => ({
      path: a.path,
      namespace: 'stub',
      sideEffects: false, // so an import whose names are never used is dropped
    }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

const result = await esbuild.build({
  entryPoints: [join(root, 'lib', 'plots', 'tweak-page.ts')],
  bundle: true,
  format: 'iife',
  globalName: '__dknnTweak',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  write: false,
  metafile: true,
  logLevel: 'warning',
  plugins: [stub],
});
const kept = Object.values(result.metafile.outputs)
  .flatMap((o) => Object.keys(o.inputs))
  .filter((p) => p.startsWith('stub:'));
if (kept.length) {
  console.error(`build-page-bundle: the page code reaches ${kept.join(', ')}, which the browser does not have`);
  process.exit(1);
}
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents);
renameSync(tmp, out);
