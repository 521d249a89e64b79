import { createHash } from 'node:crypto';
import { DIGEST } from '@its/core';

/** The content address of some bytes, as registries write it. */
export function computeDigest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/** Tag of the OCI referrers fallback index for a subject (distribution spec 1.1, "referrers tag schema"). */
export function referrersFallbackTag(digest: string): string {
  return digest.replace(':', '-');
}

/** Tag where cosign keeps signatures of a digest: `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  return `${referrersFallbackTag(digest)}.sig`;
}

/** Tags that hold supply-chain metadata about another manifest rather than an image of ours. */
export function isMetadataTag(tag: string): boolean {
  return /^sha256-[a-f0-9]{64}(\.[a-z]+)?$/.test(tag);
}
