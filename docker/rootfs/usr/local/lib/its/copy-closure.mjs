// Copies one workspace package's production dependency closure out of an installed node_modules tree:
//   node copy-closure.mjs <package-name> <app-root> <dest-root>
// Resolution follows Node's rule (nearest node_modules up the directory tree), so hoisted and nested
// copies are both found; workspace packages (symlinks out of node_modules) keep their symlink and
// package.json, their compiled files are copied by the Dockerfile. Build-time only: used by the edge stage.
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const [name, appRoot, destRoot] = process.argv.slice(2);
if (!name || !appRoot || !destRoot) {
  console.error('usage: node copy-closure.mjs <package-name> <app-root> <dest-root>');
  process.exit(2);
}

function findPackageDir(dep, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', dep);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === appRoot || dir === dirname(dir)) return undefined;
  }
}

const seen = new Set();
const copied = [];

function visit(pkgDir) {
  const real = realpathSync(pkgDir);
  if (seen.has(real)) return;
  seen.add(real);
  const rel = relative(appRoot, pkgDir);
  const dest = join(destRoot, rel);
  mkdirSync(dirname(dest), { recursive: true });
  if (lstatSync(pkgDir).isSymbolicLink()) {
    // A workspace link: keep the link and the target's package.json.
    if (!existsSync(dest)) symlinkSync(readlinkSync(pkgDir), dest);
    const relReal = relative(appRoot, real);
    mkdirSync(join(destRoot, relReal), { recursive: true });
    cpSync(join(real, 'package.json'), join(destRoot, relReal, 'package.json'));
  } else {
    // Copy the package without its nested node_modules: nested dependencies are copied when reached.
    cpSync(pkgDir, dest, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !relative(pkgDir, src).split(sep).includes('node_modules'),
    });
  }
  copied.push(rel);
  const manifest = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8'));
  const deps = { ...manifest.dependencies, ...manifest.optionalDependencies };
  for (const dep of Object.keys(deps)) {
    // Resolve from the link's location for hoisted deps and from the real dir for nested ones.
    const found = findPackageDir(dep, real) ?? findPackageDir(dep, pkgDir);
    if (found) visit(found);
    else if (!(dep in (manifest.optionalDependencies ?? {}))) {
      console.error(`copy-closure: ${manifest.name} needs ${dep}, which is not installed`);
      process.exit(1);
    }
  }
}

const start = findPackageDir(name, appRoot);
if (!start) {
  console.error(`copy-closure: ${name} is not installed under ${appRoot}/node_modules`);
  process.exit(1);
}
visit(start);
console.log(`copy-closure: ${copied.length} packages in the closure of ${name}`);
