/**
 * SBOM per image: read the image's layers from the registry, inventory npm and Debian packages, write
 * CycloneDX 1.5, and attach it as an OCI referrer (artifactType application/vnd.cyclonedx+json,
 * subject = the image). For a multi-arch index each platform image gets its own SBOM.
 */
import { randomUUID } from 'node:crypto';
import { readTarEntries } from '@its/core/tar';
import { isIndexMediaType, OCI_EMPTY, OCI_MANIFEST } from '../registry/media-types.js';
import type { Descriptor, RegistryClient } from '../registry/registry-client.js';
import { platformKey } from '../registry/assemble-index.js';
import { buildCycloneDxSbom, CYCLONEDX_MEDIA_TYPE } from './cyclonedx.js';
import {
  isInventoryPath,
  isWhiteout,
  LayerInventory,
  normalizeLayerPath,
  type DebianPackage,
  type NpmPackage,
  type OsRelease,
} from './inventory.js';

export interface ImageInventory {
  digest: string;
  npm: NpmPackage[];
  debian: DebianPackage[];
  /** From etc/os-release (or usr/lib/os-release); absent in images without one (scratch, distroless). */
  os?: OsRelease;
}

/** Streams each layer of one image manifest and collects its packages. */
export async function inventoryImage(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<ImageInventory> {
  const manifest = await client.getManifest(repository, digest);
  const body = JSON.parse(manifest.bytes.toString('utf8')) as { layers?: Descriptor[] };
  const inventory = new LayerInventory();
  for (const layer of body.layers ?? []) {
    if (!/tar/.test(layer.mediaType)) continue; // not a filesystem layer
    const files: Array<{ path: string; data: Buffer | undefined }> = [];
    // A zstd layer throws here rather than read as empty: an SBOM missing its packages would pass for true.
    for await (const entry of readTarEntries(client.streamBlob(repository, layer.digest), {
      label: `layer ${layer.digest} of ${repository}@${digest}`,
      mediaType: layer.mediaType,
      want: (header) => isInventoryPath(normalizeLayerPath(header.name)),
    })) {
      const path = normalizeLayerPath(entry.name);
      // Whiteouts hide lower layers' files; the layer's own files are added after them.
      if (isWhiteout(path)) inventory.addWhiteout(path);
      else if (entry.data) files.push({ path, data: entry.data });
      // A symlink or directory at an inventory path (etc/os-release → ../usr/lib/os-release) hides
      // what lower layers had there.
      else if (isInventoryPath(path)) files.push({ path, data: undefined });
    }
    for (const f of files) {
      if (f.data) inventory.addFile(f.path, f.data);
      else inventory.replaceWithNonFile(f.path);
    }
  }
  return { digest, ...inventory.result() };
}

export interface AttachedSbom {
  subject: string;
  platform?: string;
  referrer: Descriptor;
  components: number;
  sbom: Record<string, unknown>;
}

/** Generates and attaches SBOMs for an image or for each platform image of an index. */
export async function attachSbom(
  client: RegistryClient,
  repository: string,
  digest: string,
  deps: { now: () => Date; serialNumber?: () => string },
): Promise<AttachedSbom[]> {
  const subject = await client.getManifest(repository, digest);
  if (isIndexMediaType(subject.mediaType)) {
    const index = JSON.parse(subject.bytes.toString('utf8')) as { manifests: Descriptor[] };
    const out: AttachedSbom[] = [];
    for (const child of index.manifests) {
      if (child.platform?.os === 'unknown') continue; // attestation entries, not images
      out.push(...(await attachSbom(client, repository, child.digest, deps)));
    }
    return out;
  }
  const inventory = await inventoryImage(client, repository, digest);
  const config = await readPlatform(client, repository, subject.bytes);
  const sbom = buildCycloneDxSbom({
    subject: { registry: client.registry, repository, digest, ...(config ? { platform: config } : {}) },
    npm: inventory.npm,
    debian: inventory.debian,
    os: inventory.os,
    timestamp: deps.now().toISOString(),
    serialNumber: `urn:uuid:${(deps.serialNumber ?? randomUUID)()}`,
  });
  const sbomBytes = Buffer.from(JSON.stringify(sbom, null, 2));
  const layer = await client.uploadBlob(repository, sbomBytes, CYCLONEDX_MEDIA_TYPE);
  const empty = await client.uploadBlob(repository, Buffer.from('{}'), OCI_EMPTY);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: CYCLONEDX_MEDIA_TYPE,
    config: { mediaType: OCI_EMPTY, digest: empty.digest, size: empty.size },
    layers: [{ ...layer, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } }],
    subject: { mediaType: subject.mediaType, digest, size: subject.bytes.length },
    annotations: { 'org.opencontainers.image.created': deps.now().toISOString() },
  };
  const referrer = await client.putReferrer(repository, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
  const result: AttachedSbom = {
    subject: digest,
    referrer,
    components: (sbom.components as unknown[]).length,
    sbom,
  };
  if (config) result.platform = config;
  return [result];
}

/** The SBOM attached to an image (the newest when there are several), or undefined. */
export async function readSbom(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<Record<string, unknown> | undefined> {
  const referrers = await client.listReferrers(repository, digest, CYCLONEDX_MEDIA_TYPE);
  const newest = referrers.at(-1);
  if (!newest) return undefined;
  const manifest = JSON.parse(
    (await client.getManifest(repository, newest.digest)).bytes.toString('utf8'),
  ) as { layers: Descriptor[] };
  const layer = manifest.layers.find((l) => l.mediaType === CYCLONEDX_MEDIA_TYPE);
  if (!layer) return undefined;
  return JSON.parse((await client.getBlob(repository, layer.digest)).toString('utf8')) as Record<
    string,
    unknown
  >;
}

async function readPlatform(
  client: RegistryClient,
  repository: string,
  manifestBytes: Buffer,
): Promise<string | undefined> {
  const body = JSON.parse(manifestBytes.toString('utf8')) as { config?: Descriptor };
  if (!body.config) return undefined;
  const bytes = await client.getBlob(repository, body.config.digest);
  try {
    const config = JSON.parse(bytes.toString('utf8')) as {
      os?: string;
      architecture?: string;
      variant?: string;
    };
    if (!config.os || !config.architecture) return undefined;
    return platformKey({
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    });
  } catch {
    return undefined; // a config that is not JSON (an artifact, not an image) has no platform
  }
}
