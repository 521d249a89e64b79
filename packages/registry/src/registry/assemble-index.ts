/**
 * Multi-architecture: one index over per-platform images already in the registry. The platform of
 * each entry is read from its image config (what the image says it is), not from a flag.
 */
import { StepFailedError, UsageError } from '@its/core';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, isImageManifestMediaType } from './media-types.js';
import type { Descriptor, Platform, RegistryClient } from './registry-client.js';

export interface AssembledIndex {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  manifests: Descriptor[];
}

/** Builds the index bytes (pure): Docker's list type when every child is a Docker manifest, else OCI. */
export function buildIndex(
  children: Descriptor[],
  annotations?: Record<string, string>,
): { bytes: Buffer; mediaType: string } {
  const platforms = children.map((c) => platformKey(c.platform));
  const dup = platforms.find((p, i) => platforms.indexOf(p) !== i);
  if (dup) throw new UsageError(`two images claim platform ${dup}`, { fix: 'give one image per platform' });
  const mediaType = children.every((c) => c.mediaType === DOCKER_MANIFEST) ? DOCKER_MANIFEST_LIST : OCI_INDEX;
  const index: Record<string, unknown> = { schemaVersion: 2, mediaType, manifests: children };
  if (annotations && mediaType === OCI_INDEX) index.annotations = annotations;
  return { bytes: Buffer.from(JSON.stringify(index, null, 2)), mediaType };
}

export function platformKey(p: Platform | undefined): string {
  return p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : 'unknown';
}

/** Reads each image's platform, pushes the index under `tag`, and returns it. */
export async function assembleIndex(
  client: RegistryClient,
  repository: string,
  references: string[],
  tag: string,
  annotations?: Record<string, string>,
): Promise<AssembledIndex> {
  if (references.length === 0) throw new UsageError('name at least one per-platform image');
  const children: Descriptor[] = [];
  for (const reference of references) {
    const manifest = await client.getManifest(repository, reference);
    if (!isImageManifestMediaType(manifest.mediaType)) {
      throw new StepFailedError(
        `${repository}:${reference} is ${manifest.mediaType || 'untyped'}, not a single-platform image manifest`,
        {
          fix: 'assemble an index from per-platform images only',
        },
      );
    }
    const body = JSON.parse(manifest.bytes.toString('utf8')) as { config: Descriptor };
    const config = JSON.parse((await client.getBlob(repository, body.config.digest)).toString('utf8')) as {
      architecture?: string;
      os?: string;
      variant?: string;
    };
    if (!config.architecture || !config.os) {
      throw new StepFailedError(`${repository}:${reference}: its config names no os/architecture`);
    }
    const platform: Platform = { architecture: config.architecture, os: config.os };
    if (config.variant) platform.variant = config.variant;
    children.push({
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
      platform,
    });
  }
  const { bytes, mediaType } = buildIndex(children, annotations);
  const { digest } = await client.putManifest(repository, tag, bytes, mediaType);
  return { digest, mediaType, bytes, manifests: children };
}
