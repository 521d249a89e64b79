import type { Slot } from '../plan/types.js';
import { ROUTER_DIR } from '../containers/container-spec.js';

/**
 * The router's configuration file. Traffic goes to the backend the slot map names ("active blue|green"),
 * so a blue-green switch is one runtime `set map`; servers change through the runtime API without
 * reloads. The file is rewritten after every change so a restarted router comes back as it was.
 */

export interface PersistedServer {
  slot: Slot;
  server: string;
  /** Container name: resolved by Docker's DNS when the router restarts (IPs may change). */
  host: string;
  port: number;
  state: 'ready' | 'drain' | 'maint';
  /** Canary steps set weights; a restarted router keeps the split it had. Default 100. */
  weight?: number;
}

/** Server options used both in the file and for runtime `add server`. */
export const SERVER_OPTIONS = 'check inter 1s fall 2 rise 1 weight 100';

/**
 * Per-request log line: marker, accept time (epoch ms: %Ts seconds + %ms milliseconds), backend,
 * server, HTTP status, active time of the request in ms (%Ta: from the request to the end of the
 * response, keep-alive idle excluded), termination state. Parsed by router/router-log.ts.
 */
export const ROUTER_LOG_FORMAT = 'ITSREQ %Ts%ms %b %s %ST %Ta %tsc';

export function renderHaproxyConfig(servers: PersistedServer[]): string {
  const backend = (slot: Slot) => [
    `backend ${slot}`,
    '    balance roundrobin',
    '    option httpchk GET /health',
    ...servers
      .filter((s) => s.slot === slot)
      .map(
        (s) =>
          `    server ${s.server} ${s.host}:${s.port} ${SERVER_OPTIONS.replace('weight 100', `weight ${s.weight ?? 100}`)} resolvers docker init-addr last,libc,none${s.state === 'maint' ? ' disabled' : ''}`,
      ),
    '',
  ];
  return [
    '# Written by itsctl deploy; changed at run time through the admin socket. Do not edit by hand.',
    'global',
    `    stats socket ${ROUTER_DIR}/admin.sock mode 660 level admin expose-fd listeners`,
    '    stats timeout 30s',
    // One line per request on stdout (the engine keeps it as the container's log): the canary
    // analysis and the post-switch watch read status and time of every request from here.
    '    log stdout format raw local0 info',
    '',
    'defaults',
    '    mode http',
    '    log global',
    '    timeout connect 2s',
    '    timeout client 60s',
    '    timeout server 60s',
    '    timeout http-keep-alive 30s',
    // A request that could not reach a replica (connection refused or closed while a replica stops)
    // is retried on another: the safety net under draining.
    '    retries 3',
    '    option redispatch 1',
    '    retry-on conn-failure empty-response',
    '',
    'frontend health',
    '    bind :8404',
    '    monitor-uri /health',
    '    stats enable',
    '    stats uri /stats',
    '',
    'frontend app',
    '    bind :8080',
    '    option forwardfor',
    `    log-format "${ROUTER_LOG_FORMAT}"`,
    `    use_backend %[str(active),map(${ROUTER_DIR}/slot.map,blue)]`,
    '',
    ...backend('blue'),
    ...backend('green'),
    'resolvers docker',
    '    nameserver dns 127.0.0.11:53',
    '    hold valid 5s',
    '',
  ].join('\n');
}

export function renderSlotMap(active: Slot): string {
  return `active ${active}\n`;
}
