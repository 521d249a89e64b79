/**
 * Names and values the delivery system's configuration shares, each defined once. The zod schemas of
 * each configuration file (deploy/environments/*.yml, the quality-gate policy, …) build on these.
 */

/** Environment names become file, container and network names: short, lower-case, DNS-safe. */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** An environment variable name, as a secret's or a setting's key. */
export const ENV_VARIABLE = /^[A-Z_][A-Z0-9_]*$/;
/** `host:port`, for TCP probes. */
export const HOST_PORT = /^[^:\s]+:\d+$/;
/** A TCP port. */
export const PORT_RANGE = { min: 1, max: 65535 } as const;
