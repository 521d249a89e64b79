/**
 * What software an image holds, read from its layers: npm packages (every package.json directly under
 * a node_modules directory) and Debian packages (var/lib/dpkg/status). Parsing is pure; reading the
 * layers is the caller's (scan-image.ts).
 */

export interface NpmPackage {
  name: string;
  version: string;
  license?: string;
  /** Path of its package.json inside the image, for the SBOM's evidence. */
  path: string;
}

export interface DebianPackage {
  name: string;
  version: string;
  architecture?: string;
  source?: string;
}

const NPM_MANIFEST_RE = /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;
export const DPKG_STATUS_PATH = 'var/lib/dpkg/status';

/** The layer paths whose contents the inventory needs. */
export function isInventoryPath(path: string): boolean {
  return path === DPKG_STATUS_PATH || NPM_MANIFEST_RE.test(path);
}

export function isNpmManifestPath(path: string): boolean {
  return NPM_MANIFEST_RE.test(path);
}

/** A package.json, or undefined when it is not a package (no name/version, or not JSON). */
export function parseNpmManifest(path: string, text: string): NpmPackage | undefined {
  let json: { name?: unknown; version?: unknown; license?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return undefined;
  }
  if (typeof json.name !== 'string' || typeof json.version !== 'string') return undefined;
  const pkg: NpmPackage = { name: json.name, version: json.version, path };
  if (typeof json.license === 'string') pkg.license = json.license;
  return pkg;
}

/** Installed packages from dpkg's status file (stanzas separated by blank lines; only "install ok installed"). */
export function parseDpkgStatus(text: string): DebianPackage[] {
  const out: DebianPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line)) continue; // continuation lines (Description, Conffiles) are not needed
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      fields[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (!fields.package || !fields.version) continue;
    if (fields.status && !fields.status.endsWith(' installed')) continue;
    const pkg: DebianPackage = { name: fields.package, version: fields.version };
    if (fields.architecture) pkg.architecture = fields.architecture;
    if (fields.source) pkg.source = fields.source.split(' ')[0]!;
    out.push(pkg);
  }
  return out;
}

/**
 * Merges layer findings in order, honouring overlay whiteouts: `.wh.<name>` deletes <name> from lower
 * layers and `.wh..wh..opq` empties its directory.
 */
export class LayerInventory {
  readonly #npm = new Map<string, NpmPackage>();
  #dpkg: DebianPackage[] = [];

  addFile(path: string, data: Buffer): void {
    if (path === DPKG_STATUS_PATH) this.#dpkg = parseDpkgStatus(data.toString('utf8'));
    else if (isNpmManifestPath(path)) {
      const pkg = parseNpmManifest(path, data.toString('utf8'));
      if (pkg) this.#npm.set(path, pkg);
      else this.#npm.delete(path);
    }
  }

  /** Applies one whiteout entry found in a layer (before that layer's own files are added). */
  addWhiteout(path: string): void {
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash + 1);
    const base = path.slice(slash + 1);
    const removed = base === '.wh..wh..opq' ? dir : `${dir}${base.slice(4)}`;
    for (const key of [...this.#npm.keys()]) {
      if (
        key === removed ||
        key.startsWith(removed.endsWith('/') || removed === '' ? removed : `${removed}/`)
      ) {
        this.#npm.delete(key);
      }
    }
    if (DPKG_STATUS_PATH === removed || DPKG_STATUS_PATH.startsWith(`${removed.replace(/\/$/, '')}/`))
      this.#dpkg = [];
  }

  result(): { npm: NpmPackage[]; debian: DebianPackage[] } {
    return { npm: [...this.#npm.values()], debian: this.#dpkg };
  }
}

/** A layer entry's name as an image path: 'etc/x' whether the layer stored './etc/x' or '/etc/x'. */
export function normalizeLayerPath(name: string): string {
  return name.replace(/^\.\//, '').replace(/^\/+/, '');
}

export function isWhiteout(path: string): boolean {
  return path.slice(path.lastIndexOf('/') + 1).startsWith('.wh.');
}
