/**
 * The dashboard server's configuration, read once from the environment at start-up. A bad value stops
 * start-up with a message that names the variable and says how to fix it.
 */
import { z } from 'zod';

export class WebConfigError extends Error {
  override name = 'WebConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid environment: ${issues.join('; ')}`);
  }
}

const WebEnv = z.object({
  /** Interface to bind. Default 127.0.0.1: nothing is exposed beyond this machine unless asked. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** TCP port. Default 3000, the port operators and the delivery health checks expect. */
  PORT: z.coerce.number({ error: 'use a TCP port number, 0-65535' }).int().min(0).max(65_535).default(3000),
  /**
   * The API's base URL as the *browser* sees it (the browser calls the API directly; the API allows
   * this origin through CORS). Default http://localhost:8000, where `npm start` runs the API.
   */
  API_PUBLIC_URL: z
    .string()
    .url('use an absolute http(s) URL such as http://localhost:8000')
    .regex(/^https?:\/\//, 'use an http:// or https:// URL')
    .default('http://localhost:8000'),
  /** pino level. Default info: one line per request is enough for an operator console. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Reported by /health and shown in the dashboard footer; the image build sets it. */
  APP_VERSION: z.string().min(1).max(64).default('0.1.0'),
  /**
   * `production` (the production image sets it) stops serving the client's source maps (`*.map`),
   * which publish its original source; any other value, or none, serves them for debugging a build.
   */
  NODE_ENV: z.string().optional(),
});

export type WebConfig = Readonly<{
  host: string;
  port: number;
  apiPublicUrl: string;
  logLevel: z.infer<typeof WebEnv>['LOG_LEVEL'];
  version: string;
  /** Serve `*.map` files: false when NODE_ENV=production. */
  serveSourceMaps: boolean;
}>;

/** Parses the environment; throws WebConfigError naming every bad variable at once. */
export function loadWebConfig(env: Record<string, string | undefined>): WebConfig {
  // Empty strings mean "unset" (Compose, v1 `docker-compose` or v2 `docker compose`, passes `VAR=` through as "").
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = WebEnv.safeParse(present);
  if (!parsed.success) {
    // One message per variable: the first problem is the one to fix.
    const byVar = new Map<string, string>();
    for (const i of parsed.error.issues) {
      const name = i.path.join('.');
      if (!byVar.has(name)) byVar.set(name, `${name}: ${i.message}`);
    }
    throw new WebConfigError([...byVar.values()]);
  }
  const e = parsed.data;
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    apiPublicUrl: e.API_PUBLIC_URL.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    version: e.APP_VERSION,
    serveSourceMaps: e.NODE_ENV !== 'production',
  });
}
