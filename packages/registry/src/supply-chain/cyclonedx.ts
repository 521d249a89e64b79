/** CycloneDX 1.5 JSON for one image (pure: the clock and serial number are passed in). */
import type { DebianPackage, NpmPackage, OsRelease } from './inventory.js';

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

export interface SbomSubject {
  registry: string;
  repository: string;
  digest: string;
  platform?: string;
}

/** Package URL for an npm package: the scope's @ is percent-encoded (purl spec). */
export function npmPurl(name: string, version: string): string {
  const encoded = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${encoded}@${encodeURIComponent(version)}`;
}

/**
 * The purl `distro` qualifier from os-release: `<ID>-<VERSION_ID>` (debian-12, ubuntu-24.04), the
 * codename standing in for a missing VERSION_ID (debian-trixie on testing). Scanners pick the
 * security tracker's release by it: without it a Debian 12 package cannot be told from a Debian 11 one.
 */
export function distroQualifier(os: OsRelease | undefined): string | undefined {
  const release = os?.versionId ?? os?.versionCodename;
  return os?.id && release ? `${os.id}-${release}` : undefined;
}

/**
 * Package URL of a dpkg package: the namespace is the distribution's os-release ID (debian when the
 * image has no os-release); qualifiers in the spec's sorted order, arch, distro, upstream.
 */
export function debianPurl(pkg: DebianPackage, os?: OsRelease): string {
  const namespace = os?.id && /^[a-z0-9][a-z0-9._-]*$/.test(os.id) ? os.id : 'debian';
  const distro = distroQualifier(os);
  const qualifiers = [
    pkg.architecture ? `arch=${encodeURIComponent(pkg.architecture)}` : '',
    distro ? `distro=${encodeURIComponent(distro)}` : '',
    pkg.source ? `upstream=${encodeURIComponent(pkg.source)}` : '',
  ]
    .filter(Boolean)
    .join('&');
  return `pkg:deb/${namespace}/${encodeURIComponent(pkg.name)}@${encodeURIComponent(pkg.version)}${qualifiers ? `?${qualifiers}` : ''}`;
}

export function ociPurl(subject: SbomSubject): string {
  const name = subject.repository.slice(subject.repository.lastIndexOf('/') + 1);
  const url = encodeURIComponent(`${subject.registry}/${subject.repository}`);
  return `pkg:oci/${name}@${subject.digest.replace(':', '%3A')}?repository_url=${url}`;
}

export function buildCycloneDxSbom(input: {
  subject: SbomSubject;
  npm: NpmPackage[];
  debian: DebianPackage[];
  /** The image's os-release: the deb purls' namespace and `distro` qualifier. */
  os?: OsRelease | undefined;
  timestamp: string;
  serialNumber: string;
  toolVersion?: string;
}): Record<string, unknown> {
  const components = new Map<string, Record<string, unknown>>();
  for (const pkg of input.npm) {
    const purl = npmPurl(pkg.name, pkg.version);
    if (components.has(purl)) continue; // the same version installed twice is one component
    const c: Record<string, unknown> = {
      type: 'library',
      'bom-ref': purl,
      name: pkg.name,
      version: pkg.version,
      purl,
      properties: [{ name: 'its:layer-path', value: pkg.path }],
    };
    if (pkg.license) c.licenses = [{ expression: pkg.license }];
    components.set(purl, c);
  }
  for (const pkg of input.debian) {
    const purl = debianPurl(pkg, input.os);
    if (components.has(purl)) continue;
    components.set(purl, { type: 'library', 'bom-ref': purl, name: pkg.name, version: pkg.version, purl });
  }
  const sorted = [...components.values()].sort((a, b) =>
    String(a['bom-ref']).localeCompare(String(b['bom-ref'])),
  );
  const imagePurl = ociPurl(input.subject);
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: input.serialNumber,
    version: 1,
    metadata: {
      timestamp: input.timestamp,
      tools: { components: [{ type: 'application', name: 'itsctl', version: input.toolVersion ?? '0.1.0' }] },
      component: {
        type: 'container',
        'bom-ref': imagePurl,
        name: `${input.subject.registry}/${input.subject.repository}`,
        version: input.subject.digest,
        purl: imagePurl,
        ...(input.subject.platform
          ? { properties: [{ name: 'its:platform', value: input.subject.platform }] }
          : {}),
      },
    },
    components: sorted,
    dependencies: [{ ref: imagePurl, dependsOn: sorted.map((c) => c['bom-ref']) }],
  };
}
