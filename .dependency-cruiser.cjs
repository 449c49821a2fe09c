/**
 * The house rules, checked by `npm run lint:deps` (part of `npm test`):
 * - no import cycle anywhere (lib, tests, benchmarks, scripts);
 * - a lib folder imports only from the folders below it in LAYERS (lib/README.md draws them);
 * - only lib/native/ reaches into a dependency's internal files (anything but its main entry).
 * LAYERS is the one list of the layers; a test checks that lib/README.md lists the same.
 */
const { relative } = require('node:path');

/** lib's folders, bottom to top; lib/index.ts stands above them all. */
const LAYERS = [
  'util', 'metrics', 'native', 'artifacts', 'data', 'engine', 'models', 'workers', 'knn', 'conformal',
  'training', 'activations', 'dknn', 'attacks', 'analysis', 'plots', 'report', 'experiment', 'cli',
]; // prettier-ignore

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `lib/${layer}/ may import only from the folders below it: ${LAYERS.slice(0, i).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: `^lib/${layer}/` },
  to: { path: `^lib/(${LAYERS.slice(i + 1).join('|')})/|^lib/index\\.ts$` },
}));

/** The main entry of each dependency of the project and of the lib, as Node's require resolves it (relative to the repo). */
const root = __dirname;
const manifests = [require('./package.json'), require('./lib/package.json')];
const packages = new Set(
  manifests.flatMap((m) =>
    ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) =>
      Object.keys(m[k] ?? {}),
    ),
  ),
);
const mains = [];
for (const pkg of packages) {
  try {
    mains.push(relative(root, require.resolve(pkg, { paths: [root, `${root}/lib`] })));
  } catch {
    // not installed (an optional dependency), or types only: nothing imports it then
  }
}
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: break it by moving the shared piece into a lower folder',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'private-internals-in-native-only',
      comment:
        "a dependency's internal file (not its main entry) may be reached only from lib/native/, through one adapter",
      severity: 'error',
      from: { path: '^(lib|test|bench|scripts)/', pathNot: '^lib/native/' },
      to: { path: '^node_modules/', pathNot: [...mains.map((m) => `^${escape(m)}$`), '\\.d\\.ts$', '\\.json$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^lib/dist/' },
    moduleSystems: ['cjs', 'es6'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['require', 'node', 'default'],
      mainFields: ['main'],
    },
  },
};
