/**
 * Copies manifests and blobs between repositories (and registries) without changing a byte, so the
 * digest staging tested is the digest production runs. Order matters: blobs, then child manifests,
 * then the manifest itself by digest; tags are the caller's last step. An interruption therefore
 * leaves at most untagged content behind, never a tag pointing at something incomplete.
 */
import { signatureTag } from './digest.js';
import { isForeignLayer, isIndexMediaType } from './media-types.js';
import type { Descriptor, FetchedManifest, RegistryClient } from './registry-client.js';

export interface RepositoryRef {
  client: RegistryClient;
  repository: string;
}

export interface CopyStats {
  manifests: number;
  manifestsPresent: number;
  blobsMounted: number;
  blobsCopied: number;
  blobsPresent: number;
  referrers: number;
}

export function emptyCopyStats(): CopyStats {
  return {
    manifests: 0,
    manifestsPresent: 0,
    blobsMounted: 0,
    blobsCopied: 0,
    blobsPresent: 0,
    referrers: 0,
  };
}

interface ManifestShape {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

/** Copies the manifest `digest` and everything it references; returns the copied manifest. */
export async function copyManifestTree(
  src: RepositoryRef,
  dst: RepositoryRef,
  digest: string,
  stats: CopyStats = emptyCopyStats(),
): Promise<FetchedManifest> {
  const manifest = await src.client.getManifest(src.repository, digest);
  if (await dst.client.headManifest(dst.repository, digest)) {
    // The registry only accepted that manifest once everything it references was present.
    stats.manifestsPresent++;
    return manifest;
  }
  const body = JSON.parse(manifest.bytes.toString('utf8')) as ManifestShape;
  if (isIndexMediaType(manifest.mediaType) || Array.isArray(body.manifests)) {
    for (const child of body.manifests ?? []) await copyManifestTree(src, dst, child.digest, stats);
  } else {
    const blobs = [body.config, ...(body.layers ?? [])].filter((d): d is Descriptor => d !== undefined);
    for (const blob of blobs) {
      if (isForeignLayer(blob.mediaType)) continue;
      await copyBlob(src, dst, blob.digest, stats);
    }
  }
  await dst.client.putManifest(dst.repository, digest, manifest.bytes, manifest.mediaType);
  stats.manifests++;
  return manifest;
}

/** Mounts a blob across repositories of one registry; copies the bytes when that is declined. */
export async function copyBlob(
  src: RepositoryRef,
  dst: RepositoryRef,
  digest: string,
  stats: CopyStats,
): Promise<void> {
  if (await dst.client.hasBlob(dst.repository, digest)) {
    stats.blobsPresent++;
    return;
  }
  const sameRegistry = src.client.registry === dst.client.registry && src.repository !== dst.repository;
  if (sameRegistry && (await dst.client.mountBlob(dst.repository, digest, src.repository))) {
    stats.blobsMounted++;
    return;
  }
  // Different registries: the bytes have to travel, streamed (a layer can be a gigabyte). The source
  // stream checks the digest as it ends and the target registry checks it again before committing.
  await dst.client.uploadBlobStream(dst.repository, digest, src.client.streamBlob(src.repository, digest));
  stats.blobsCopied++;
}

/**
 * Copies what refers to `digest` — SBOMs, signatures (as OCI referrers) and cosign's `.sig` tag — and,
 * for an index, what refers to each platform manifest. Subjects keep their digests, so the copies
 * still point at the right image.
 */
export async function copyReferrers(
  src: RepositoryRef,
  dst: RepositoryRef,
  digest: string,
  stats: CopyStats = emptyCopyStats(),
): Promise<void> {
  const referrers = await src.client.listReferrers(src.repository, digest);
  for (const referrer of referrers) {
    const copied = await copyManifestTree(src, dst, referrer.digest, stats);
    const { subjectHandled } = await dst.client.putManifest(
      dst.repository,
      referrer.digest,
      copied.bytes,
      copied.mediaType,
    );
    if (!subjectHandled && !(await dst.client.supportsReferrersApi(dst.repository, digest))) {
      await dst.client.addToFallbackIndex(dst.repository, digest, referrer);
    }
    stats.referrers++;
  }
  const sigTag = signatureTag(digest);
  const sig = await src.client.headManifest(src.repository, sigTag);
  if (sig) {
    const copied = await copyManifestTree(src, dst, sig.digest, stats);
    await dst.client.putManifest(dst.repository, sigTag, copied.bytes, copied.mediaType);
  }
  const subject = await src.client.getManifest(src.repository, digest);
  if (isIndexMediaType(subject.mediaType)) {
    const body = JSON.parse(subject.bytes.toString('utf8')) as ManifestShape;
    for (const child of body.manifests ?? []) await copyReferrers(src, dst, child.digest, stats);
  }
}
