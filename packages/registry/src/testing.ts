/**
 * Test support for the registry and everything that publishes or deploys from one: a private registry
 * on a free loopback port, tiny test images pushed straight through the API, and a token-auth proxy
 * that behaves like ghcr.io (a stand-in: the real one cannot be reached from here).
 */
export { startLocalRegistry } from './registry/local-registry.js';
export type { LocalRegistry } from './registry/local-registry.js';
export * from './registry/image-fixtures.fixture.js';
export * from './registry/ghcr-stand-in-token-proxy.fixture.js';
