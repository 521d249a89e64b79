import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { ephemeralLow, freePort, portWindow } from './free-port.js';

function readRange(): string | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    return undefined;
  }
}

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });

describe('freePort', () => {
  it('reads the ephemeral range, and falls back to the kernel default when it cannot', () => {
    expect(ephemeralLow('32768\t60999\n')).toBe(32_768);
    expect(ephemeralLow('1024 65535')).toBe(1024);
    expect(ephemeralLow(undefined)).toBe(32_768);
    expect(ephemeralLow('garbage')).toBe(32_768);
  });

  it('chooses below the ephemeral range, never under 10000; none when the range starts too low', () => {
    expect(portWindow(32_768)).toEqual({ first: 20_767, last: 32_767 });
    expect(portWindow(15_000)).toEqual({ first: 10_000, last: 14_999 });
    expect(portWindow(10_500)).toBeUndefined();
  });

  it('returns ports outside the range outgoing connections take their source ports from', async () => {
    const low = ephemeralLow(readRange());
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeLessThan(low);
      expect(port).toBeGreaterThanOrEqual(10_000);
    }
    // Free: each one can be listened on right away.
    for (const port of ports.slice(0, 5)) {
      const srv = await listen(port);
      await new Promise((r) => srv.close(r));
    }
  });

  it('skips a port someone holds: the first random pick is the held port, the answer is another', async () => {
    const held = await listen(await freePort());
    const port = (held.address() as { port: number }).port;
    const window = portWindow(ephemeralLow(readRange()))!;
    const real = Math.random;
    let calls = 0;
    // The first pick lands exactly on the held port; later picks are random.
    const random = vi
      .spyOn(Math, 'random')
      .mockImplementation(() =>
        calls++ === 0 ? (port - window.first + 0.5) / (window.last - window.first + 1) : real(),
      );
    try {
      const chosen = await freePort();
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(chosen).not.toBe(port);
    } finally {
      random.mockRestore();
      await new Promise((r) => held.close(r));
    }
  });
});
