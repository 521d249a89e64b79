import { UsageError } from './errors.js';

/**
 * The grammar of image names, once for the whole delivery system (the distribution spec's, and
 * Docker's rule for telling a registry host from a repository path).
 */

/** A registry host: DNS name or IPv4 with an optional port (`ghcr.io`, `127.0.0.1:5000`, `localhost`). */
export const REGISTRY_HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/i;
/** Path components of lowercase alphanumerics separated by `.`, `_`, `__` or dashes. */
export const REPOSITORY = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
/**
 * A tag — and so every version we deploy or publish: letters, digits, `_`, `.` and `-`, at most 128,
 * not starting with `.` or `-`. Never a shell string.
 */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isValidTag(tag: string): boolean {
  return IMAGE_TAG.test(tag);
}

export function isValidRepository(name: string): boolean {
  return REPOSITORY.test(name);
}

export interface ImageReference {
  /** `host[:port]`; absent when the name has none (Docker then means Docker Hub). */
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Docker's rule: the first path component is a registry host when it contains `.` or `:` or is
 * `localhost`; otherwise the whole name is a repository (`acme/app` is Docker Hub's, not a host `acme`).
 */
export function splitRegistry(name: string): { registry: string | undefined; path: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { registry: undefined, path: name };
  const first = name.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost'
    ? { registry: first, path: name.slice(slash + 1) }
    : { registry: undefined, path: name };
}

/**
 * Parses `[host[:port]/]repository[:tag][@sha256:…]`. With `requireRegistry` (registry operations,
 * which never fall back to Docker Hub) the first component is the host and a name without one is an
 * error; without it, Docker's rule (splitRegistry) tells a host from a repository path.
 */
export function parseImageReference(
  ref: string,
  options: { requireRegistry?: boolean } = {},
): ImageReference {
  const fail = (why: string): never => {
    throw new UsageError(`image reference ${JSON.stringify(ref)}: ${why}`, {
      fix: 'write it as host[:port]/repository[:tag][@sha256:<64 hex>], e.g. 127.0.0.1:5000/its-camera-ai/staging:v1.2.3',
    });
  };
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail('the digest should be sha256: and 64 lowercase hex digits');
  }
  // Where a registry is required, the first component is the host, whatever it looks like (so a typo
  // in it is reported as a bad host); elsewhere Docker's rule decides.
  const slash = rest.indexOf('/');
  const { registry, path } = options.requireRegistry
    ? slash < 0
      ? fail('it names no registry host')
      : { registry: rest.slice(0, slash), path: rest.slice(slash + 1) }
    : splitRegistry(rest);
  if (registry !== undefined && !REGISTRY_HOST.test(registry)) fail(`${registry} is not a host[:port]`);
  let repository = path;
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!isValidTag(tag)) fail(`tag ${tag} is not valid (letters, digits, _ . -; at most 128)`);
  }
  if (!isValidRepository(repository)) fail(`repository ${repository} is not a lowercase path`);
  const out: ImageReference = { repository };
  if (registry !== undefined) out.registry = registry;
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry ? `${ref.registry}/` : ''}${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
