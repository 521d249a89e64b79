/**
 * The dependency rules of the repository, checked by dependency-cruiser in `npm run check`
 * (`npm run deps`). Three rules, each one that has bitten us:
 *
 *  - no-circular: no import cycle, inside a package or across packages.
 *  - layers: a package imports only the packages below it (LAYERS). The delivery system is a stack —
 *    core at the bottom, the `itsctl` CLI (@its/delivery) on top — and the product (apps, vision,
 *    contracts) never reaches into the delivery system except its dependency-free core.
 *  - no-deep-import: another package is reached only through an entry of its `exports` map (read from
 *    each package.json below), never through a relative path into its src/.
 *
 * Test files are checked too: a test that needs another package's internals belongs in that package.
 */
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

/** Which workspace packages each package may import (besides itself). */
const LAYERS = {
  core: [],
  'docker-engine': ['core'],
  versioning: ['core'],
  registry: ['core'],
  gates: ['core'],
  'image-build': ['core', 'docker-engine'],
  deploy: ['core', 'docker-engine', 'registry'],
  delivery: ['core', 'docker-engine', 'versioning', 'registry', 'gates', 'image-build', 'deploy'],
  // The product side.
  contracts: [],
  testkit: ['core'],
  vision: ['contracts'],
};
const APP_LAYERS = {
  api: ['contracts', 'testkit', 'core'],
  web: ['contracts', 'api', 'testkit', 'core'],
  vision: ['contracts', 'vision', 'api', 'testkit', 'core'],
};

const root = __dirname;
/** The files each package's `exports` map points at (its public entries), as repository paths. */
function entryFiles(dir) {
  const files = [];
  for (const name of readdirSync(join(root, dir))) {
    const manifest = join(root, dir, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const { exports: map } = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const target of Object.values(map ?? {}))
      if (target && typeof target === 'object' && target.source)
        files.push(`${dir}/${name}/${target.source.replace(/^\.\//, '')}`);
  }
  return files;
}
const ENTRIES = [...entryFiles('packages'), ...entryFiles('apps')];
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function layerRules(dir, layers) {
  return Object.entries(layers).map(([pkg, allowed]) => ({
    name: 'layers',
    comment: `${dir}/${pkg} may import ${allowed.length ? allowed.join(', ') : 'no other workspace package'} (LAYERS in .dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: `^${dir}/${escapeRegExp(pkg)}/` },
    to: {
      path: '^(packages|apps)/[^/]+/',
      pathNot: [
        `^${dir}/${escapeRegExp(pkg)}/`,
        ...allowed.map((a) => `^packages/${escapeRegExp(a)}/`),
        ...(dir === 'apps' ? allowed.map((a) => `^apps/${escapeRegExp(a)}/`) : []),
      ],
    },
  }));
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: split the shared part into a module both import',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules('packages', LAYERS),
    ...layerRules('apps', APP_LAYERS),
    {
      name: 'no-deep-import',
      comment:
        "another package is imported past its exports map: import its entry ('@its/<name>' or a listed subpath)",
      severity: 'error',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: {
        path: '^(packages|apps)/[^/]+/src/',
        pathNot: ['^$1/$2/', ...ENTRIES.map((f) => `^${escapeRegExp(f)}$`)],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)dist/', '(^|/)node_modules/', '\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    // The workspaces' own packages resolve to their sources, as vitest and tsc see them.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
