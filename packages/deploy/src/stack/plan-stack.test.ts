import { describe, expect, it } from 'vitest';
import { planStack, routerUrl, teardownOrder, type StackMember } from './plan-stack.js';

const member = (name: string, port: number, extra: Partial<StackMember> = {}): StackMember => ({
  name,
  app: 'its',
  router: { bind: '127.0.0.1', port },
  accessories: {},
  ...extra,
});

describe('planStack', () => {
  const root = member('dev', 8080, {
    stack: { tiers: ['dev-web', 'dev-vision'], apiKeys: [] },
    accessories: { postgres: {} },
  });

  it("orders the first environment, then the tiers, all on the first one's network, with their URLs", () => {
    const plan = planStack(root, [
      member('dev-web', 3080, { network: 'its-dev' }),
      member('dev-vision', 8090, { network: 'its-dev' }),
    ]);
    expect(plan).toEqual({
      tiers: [
        { environment: 'dev', url: 'http://127.0.0.1:8080', network: 'its-dev' },
        { environment: 'dev-web', url: 'http://127.0.0.1:3080', network: 'its-dev' },
        { environment: 'dev-vision', url: 'http://127.0.0.1:8090', network: 'its-dev' },
      ],
      errors: [],
    });
    expect(teardownOrder(plan)).toEqual(['dev-vision', 'dev-web', 'dev']);
  });

  it('reports every inconsistency at once', () => {
    const plan = planStack(member('dev', 8080, { accessories: { redis: { publish: 6379 } } }), [
      member('dev-web', 8080),
      member('dev-vision', 6379, {
        network: 'its-dev',
        stack: { tiers: ['x'], apiKeys: [] },
        accessories: { redis: {} },
      }),
    ]);
    expect(plan.errors).toEqual([
      "dev: stack.tiers.0 (dev-web): its network is its-dev-web, not the stack's its-dev: set `network: its-dev` in both files",
      'dev: stack.tiers.0 (dev-web): router.port 8080 is also used by dev',
      'dev: stack.tiers.1 (dev-vision): a tier cannot have tiers of its own (stack.tiers)',
      "dev: stack.tiers.1 (dev-vision): accessories belong to the stack's first environment (dev)",
      'dev: stack.tiers.1 (dev-vision): router.port 6379 is also used by dev accessory redis',
    ]);
  });

  it('shows a wildcard bind as the loopback URL a browser here uses', () => {
    expect(routerUrl({ bind: '0.0.0.0', port: 80 })).toBe('http://127.0.0.1:80');
    expect(routerUrl({ bind: '127.0.0.1', port: 8080 })).toBe('http://127.0.0.1:8080');
  });
});
