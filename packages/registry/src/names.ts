/**
 * The names a command line needs before anything heavy loads (option choices, argument checks): the
 * promotion stages and their repositories, and digest syntax. No dependencies; `@its/registry/names`.
 */
export * from './promotion/environments.js';
export { isDigest } from './registry/digest.js';
