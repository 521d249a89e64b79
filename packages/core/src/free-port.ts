import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports are chosen below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768–60999 by
 * default). A port the kernel hands out for `listen(0)` comes from that range, and so does the source
 * port of every outgoing connection: a port picked that way and bound minutes later (an environment
 * file written at a suite's start, its router started by a later test) can by then be the local end of
 * a keep-alive connection, and the bind fails with "address already in use" (a CI run lost a canary
 * test so). Below the range only an explicit bind takes a port.
 */
const FALLBACK_EPHEMERAL_LOW = 32_768;
/** How far below the ephemeral range to choose from. */
const SPAN = 12_000;
/** Never below this: well-known and registered service ports crowd the low range. */
const FLOOR = 10_000;
const ATTEMPTS = 50;

/** Pure: the lowest ephemeral port from /proc/sys/net/ipv4/ip_local_port_range's text. */
export function ephemeralLow(rangeText: string | undefined): number {
  const low = Number(rangeText?.trim().split(/\s+/)[0]);
  return Number.isInteger(low) && low > 0 && low <= 65_535 ? low : FALLBACK_EPHEMERAL_LOW;
}

/** Pure: the ports to choose from, [first, last], or undefined when the ephemeral range starts too low. */
export function portWindow(low: number): { first: number; last: number } | undefined {
  const last = low - 1;
  const first = Math.max(FLOOR, last - SPAN);
  return last - first >= 1000 ? { first, last } : undefined;
}

function readRange(): string | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    return undefined; // not Linux: the fallback range
  }
}

/** Binds 127.0.0.1:port and releases it: the port, or undefined when something holds it. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(undefined) : reject(error),
    );
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1, chosen at random below the ephemeral range (see above) and checked by
 * binding it; the kernel's choice only when that range is too small or every attempt found a port in use.
 */
export async function freePort(): Promise<number> {
  const window = portWindow(ephemeralLow(readRange()));
  if (window) {
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = window.first + Math.floor(Math.random() * (window.last - window.first + 1));
      const free = await tryPort(port);
      if (free !== undefined) return free;
    }
  }
  const port = await tryPort(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}
