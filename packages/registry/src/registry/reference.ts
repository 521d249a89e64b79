import { z } from 'zod';
import {
  ConfigError,
  REGISTRY_HOST,
  REPOSITORY,
  formatImageReference,
  isValidRepository,
  isValidTag,
  parseImageReference as parseCoreReference,
  type ImageReference as CoreImageReference,
} from '@its/core';

/** Registry and image name for the delivery system, from the environment the founding document names. */
export interface RegistrySettings {
  /** `host[:port]` of the registry, no scheme. DOCKER_REGISTRY; default 127.0.0.1:5000 (scripts/registry.sh). */
  registry: string;
  /** Repository path of the product image. IMAGE_NAME; default its-camera-ai. */
  image: string;
}

const settingsSchema = z.object({
  DOCKER_REGISTRY: z
    .string()
    .transform((v) => v.replace(/^https?:\/\//, '').replace(/\/+$/, ''))
    .pipe(
      z.string().regex(REGISTRY_HOST, 'should be host[:port] without a path, e.g. 127.0.0.1:5000 or ghcr.io'),
    )
    .default('127.0.0.1:5000'),
  IMAGE_NAME: z
    .string()
    .regex(REPOSITORY, 'should be a lowercase repository path, e.g. its-camera-ai or acme/its-camera-ai')
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

export { isValidRepository, isValidTag };

/** Loopback registries speak plain HTTP (docker allows it for 127.0.0.0/8); everything else HTTPS. */
export function registryBaseUrl(registry: string): string {
  const host = registry.replace(/:[0-9]+$/, '');
  const loopback = host === 'localhost' || /^127\./.test(host) || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

/** A reference in a registry: the core grammar, with the host required. */
export interface ImageReference extends CoreImageReference {
  registry: string;
}

/** Parses `host[:port]/repo[:tag][@sha256:…]` (@its/core's grammar); the registry part is required. */
export function parseImageReference(ref: string): ImageReference {
  return parseCoreReference(ref, { requireRegistry: true }) as ImageReference;
}

export { formatImageReference };
