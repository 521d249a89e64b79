export {
  buildWebApp,
  isClientRoute,
  isSourceMap,
  planClientErrorResponse,
  planSecurityHeaders,
} from './app.js';
export type { ClientConfig, WebAppOptions } from './app.js';
export { loadWebConfig, WebConfigError } from './config.js';
export type { WebConfig } from './config.js';
