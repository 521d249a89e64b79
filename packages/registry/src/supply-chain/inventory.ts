/**
 * What software an image holds, read from its layers: npm packages (every package.json directly under
 * a node_modules directory), Debian packages (var/lib/dpkg/status) and the distribution they belong to
 * (etc/os-release, else usr/lib/os-release). Parsing is pure; reading the layers is the caller's
 * (attach-sbom.ts).
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

/** The fields of os-release(5) that name the distribution and its release. */
export interface OsRelease {
  /** `ID`: lower-case distribution id, e.g. debian, ubuntu. */
  id?: string;
  /** `VERSION_ID`: e.g. 12 (absent on Debian testing/unstable). */
  versionId?: string;
  /** `VERSION_CODENAME`: e.g. bookworm. */
  versionCodename?: string;
  /** `PRETTY_NAME`, for people. */
  prettyName?: string;
}

const NPM_MANIFEST_RE = /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;
export const DPKG_STATUS_PATH = 'var/lib/dpkg/status';
/**
 * os-release(5): /etc/os-release first, /usr/lib/os-release when it is absent. On Debian the first is
 * a symlink to the second, and a symlink carries no content in a layer: then the second is read.
 */
export const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release'] as const;

/** The layer paths whose contents the inventory needs. */
export function isInventoryPath(path: string): boolean {
  return (
    path === DPKG_STATUS_PATH ||
    (OS_RELEASE_PATHS as readonly string[]).includes(path) ||
    NPM_MANIFEST_RE.test(path)
  );
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
 * os-release's KEY=value lines; values may be quoted ("…" or '…') with backslash escapes, as the
 * format allows. Unknown keys and comments are skipped.
 */
export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2)
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    fields[m[1]!] = value;
  }
  const os: OsRelease = {};
  if (fields.ID) os.id = fields.ID.toLowerCase();
  if (fields.VERSION_ID) os.versionId = fields.VERSION_ID;
  if (fields.VERSION_CODENAME) os.versionCodename = fields.VERSION_CODENAME;
  if (fields.PRETTY_NAME) os.prettyName = fields.PRETTY_NAME;
  return os;
}

/**
 * Merges layer findings in order, honouring overlay whiteouts: `.wh.<name>` deletes <name> from lower
 * layers and `.wh..wh..opq` empties its directory.
 */
export class LayerInventory {
  readonly #npm = new Map<string, NpmPackage>();
  #dpkg: DebianPackage[] = [];
  /** By path (etc/… and usr/lib/…), so an upper layer can replace or hide either. */
  readonly #osRelease = new Map<string, OsRelease>();

  addFile(path: string, data: Buffer): void {
    if (path === DPKG_STATUS_PATH) this.#dpkg = parseDpkgStatus(data.toString('utf8'));
    else if ((OS_RELEASE_PATHS as readonly string[]).includes(path))
      this.#osRelease.set(path, parseOsRelease(data.toString('utf8')));
    else if (isNpmManifestPath(path)) {
      const pkg = parseNpmManifest(path, data.toString('utf8'));
      if (pkg) this.#npm.set(path, pkg);
      else this.#npm.delete(path);
    }
  }

  /** Something other than a regular file (a symlink, a directory) now sits at an inventory path. */
  replaceWithNonFile(path: string): void {
    this.#osRelease.delete(path);
    this.#npm.delete(path);
    if (path === DPKG_STATUS_PATH) this.#dpkg = [];
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
    const hides = (file: string) => file === removed || file.startsWith(`${removed.replace(/\/$/, '')}/`);
    if (hides(DPKG_STATUS_PATH)) this.#dpkg = [];
    for (const file of OS_RELEASE_PATHS) if (hides(file)) this.#osRelease.delete(file);
  }

  result(): { npm: NpmPackage[]; debian: DebianPackage[]; os?: OsRelease } {
    const os = OS_RELEASE_PATHS.map((p) => this.#osRelease.get(p)).find((o) => o !== undefined);
    return { npm: [...this.#npm.values()], debian: this.#dpkg, ...(os ? { os } : {}) };
  }
}

/** A layer entry's name as an image path: 'etc/x' whether the layer stored './etc/x' or '/etc/x'. */
export function normalizeLayerPath(name: string): string {
  return name.replace(/^\.\//, '').replace(/^\/+/, '');
}

export function isWhiteout(path: string): boolean {
  return path.slice(path.lastIndexOf('/') + 1).startsWith('.wh.');
}
