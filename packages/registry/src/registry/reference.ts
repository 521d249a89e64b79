import { z } from 'zod';
import { ConfigError, UsageError } from '@its/core';
import { isDigest } from './digest.js';

/** Registry and image name for the delivery system, from the environment the founding document names. */
export interface RegistrySettings {
  /** `host[:port]` of the registry, no scheme. DOCKER_REGISTRY; default 127.0.0.1:5000 (scripts/registry.sh). */
  registry: string;
  /** Repository path of the product image. IMAGE_NAME; default its-camera-ai. */
  image: string;
}

const HOST_RE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$/i;
// Distribution spec: path components of lowercase alphanumerics separated by ., _, __ or -.
const REPO_RE = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

const settingsSchema = z.object({
  DOCKER_REGISTRY: z
    .string()
    .transform((v) => v.replace(/^https?:\/\//, '').replace(/\/+$/, ''))
    .pipe(z.string().regex(HOST_RE, 'should be host[:port] without a path, e.g. 127.0.0.1:5000 or ghcr.io'))
    .default('127.0.0.1:5000'),
  IMAGE_NAME: z
    .string()
    .regex(REPO_RE, 'should be a lowercase repository path, e.g. its-camera-ai or acme/its-camera-ai')
    .default('its-camera-ai'),
});

export function readRegistrySettings(env: Record<string, string | undefined>): RegistrySettings {
  const picked = {
    DOCKER_REGISTRY: env.DOCKER_REGISTRY || undefined,
    IMAGE_NAME: env.IMAGE_NAME || undefined,
  };
  const parsed = settingsSchema.safeParse(picked);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(issues.join('; '), { fix: 'fix the environment variable named above' });
  }
  return { registry: parsed.data.DOCKER_REGISTRY, image: parsed.data.IMAGE_NAME };
}

export function isValidRepository(name: string): boolean {
  return REPO_RE.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** Loopback registries speak plain HTTP (docker allows it for 127.0.0.0/8); everything else HTTPS. */
export function registryBaseUrl(registry: string): string {
  const host = registry.replace(/:[0-9]+$/, '');
  const loopback = host === 'localhost' || /^127\./.test(host) || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses `host[:port]/repo[:tag][@sha256:…]`; the registry part is required. */
export function parseImageReference(ref: string): ImageReference {
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
    if (!isDigest(digest)) fail('the digest should be sha256: and 64 lowercase hex digits');
  }
  const slash = rest.indexOf('/');
  if (slash < 0) return fail('it names no registry host');
  const registry = rest.slice(0, slash);
  if (!HOST_RE.test(registry)) fail(`${registry} is not a host[:port]`);
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!isValidTag(tag)) fail(`tag ${tag} is not valid (letters, digits, _ . -; at most 128)`);
  }
  if (!isValidRepository(repository)) fail(`repository ${repository} is not a lowercase path`);
  const out: ImageReference = { registry, repository };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
