/**
 * Where each environment's images live. One repository per environment under the product image
 * (`<image>/development`, `<image>/staging`, `<image>/production`) and the release in `<image>` itself,
 * with the same tag names everywhere (`v1.2.3`, `v1.2.3-gpu`, …). Separate repositories make "what may
 * run in production" a question of which repository, not of tag spelling, let the registry's access
 * rules differ per environment, and let promotion mount blobs instead of copying them.
 */
export const ENVIRONMENTS = ['development', 'staging', 'production', 'release'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

export function environmentRepository(image: string, environment: Environment): string {
  return environment === 'release' ? image : `${image}/${environment}`;
}

/** The environment an image must have passed before it may enter `environment`. */
export function previousEnvironment(environment: Environment): Environment | undefined {
  const i = ENVIRONMENTS.indexOf(environment);
  return i > 0 ? ENVIRONMENTS[i - 1] : undefined;
}

export function nextEnvironment(environment: Environment): Environment | undefined {
  return ENVIRONMENTS[ENVIRONMENTS.indexOf(environment) + 1];
}

/** Every repository of the image: what a signature identity may name (signing happens in development). */
export function environmentRepositories(image: string): string[] {
  return ENVIRONMENTS.map((e) => environmentRepository(image, e));
}
