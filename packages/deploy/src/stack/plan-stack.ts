import { environmentNetwork } from '../containers/container-spec.js';
import type { StackConfig } from '../config/environment-schema.js';

/**
 * A stack is one environment (the first tier: the API and its accessories) and the environments its
 * `stack.tiers` names, deployed in that order with one version. Pure: the configurations in, the
 * order and every inconsistency out (all at once, field path first).
 */

export interface StackMember {
  name: string;
  app: string;
  network?: string | undefined;
  router: { bind: string; port: number };
  stack?: StackConfig;
  accessories: Record<string, { publish?: number | undefined }>;
}

export interface StackTier {
  environment: string;
  url: string;
  network: string;
}

export interface StackPlan {
  tiers: StackTier[];
  errors: string[];
}

/** The URL a browser on this machine uses: a wildcard bind is reached on loopback. */
export function routerUrl(router: { bind: string; port: number }): string {
  const host = router.bind === '0.0.0.0' || router.bind === '' ? '127.0.0.1' : router.bind;
  return `http://${host}:${router.port}`;
}

export function planStack(root: StackMember, tiers: StackMember[]): StackPlan {
  const network = environmentNetwork(root);
  const errors: string[] = [];
  const ports = new Map<number, string>([[root.router.port, root.name]]);
  for (const [name, a] of Object.entries(root.accessories))
    if (a.publish) ports.set(a.publish, `${root.name} accessory ${name}`);
  tiers.forEach((tier, i) => {
    const field = `${root.name}: stack.tiers.${i} (${tier.name})`;
    if (environmentNetwork(tier) !== network)
      errors.push(
        `${field}: its network is ${environmentNetwork(tier)}, not the stack's ${network}: set \`network: ${network}\` in both files`,
      );
    if (tier.stack) errors.push(`${field}: a tier cannot have tiers of its own (stack.tiers)`);
    if (Object.keys(tier.accessories).length > 0)
      errors.push(`${field}: accessories belong to the stack's first environment (${root.name})`);
    const other = ports.get(tier.router.port);
    if (other) errors.push(`${field}: router.port ${tier.router.port} is also used by ${other}`);
    ports.set(tier.router.port, tier.name);
  });
  return {
    tiers: [root, ...tiers].map((t) => ({ environment: t.name, url: routerUrl(t.router), network })),
    errors,
  };
}

/** Tiers are taken down in the reverse order: the API (and its database) last. */
export function teardownOrder(plan: StackPlan): string[] {
  return plan.tiers.map((t) => t.environment).reverse();
}
