import { createConnection } from 'node:net';
import { StepFailedError } from '@its/core';
import type { ObservedServer, ServerState, Slot } from '../plan/types.js';
import { SERVER_OPTIONS } from './haproxy-config.js';

/** One runtime API command over the admin socket (non-interactive: the router closes after answering). */
export function sendRuntimeCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no answer to "${command}" in ${timeoutMs} ms`)),
    );
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (e) =>
      reject(new StepFailedError(`router admin socket ${socketPath}: ${e.message}`, { cause: e })),
    );
  });
}

/** Parses `show stat` CSV into server rows of the blue and green backends. */
export function parseShowStat(csv: string): ObservedServer[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) return [];
  const cols = header.slice(2).split(',');
  const at = (row: string[], name: string) => row[cols.indexOf(name)] ?? '';
  const out: ObservedServer[] = [];
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    const row = line.split(',');
    const slot = at(row, 'pxname');
    const server = at(row, 'svname');
    if ((slot !== 'blue' && slot !== 'green') || server === 'BACKEND' || server === 'FRONTEND') continue;
    const status = at(row, 'status');
    const state: ServerState = status.startsWith('MAINT')
      ? 'maint'
      : status.startsWith('DRAIN') || status === 'NOLB'
        ? 'drain'
        : 'ready';
    out.push({
      slot,
      server,
      address: at(row, 'addr'),
      state,
      status,
      weight: Number(at(row, 'weight') || 0),
      sessions: Number(at(row, 'scur') || 0),
    });
  }
  return out;
}

/** `show map` output → the active slot ("active green"). */
export function parseActiveSlot(mapDump: string): Slot | undefined {
  const m = /\bactive (blue|green)\b/.exec(mapDump);
  return m ? (m[1] as Slot) : undefined;
}

function expectEmpty(answer: string, command: string): void {
  const text = answer.trim();
  // Successful admin commands answer nothing or a short confirmation.
  if (
    text === '' ||
    /^New server registered\.?$/i.test(text) ||
    /^Server deleted\.?$/i.test(text) ||
    /^Done\.?$/.test(text)
  )
    return;
  throw new StepFailedError(`router refused "${command}": ${text}`);
}

export interface Sleep {
  (ms: number): Promise<void>;
}

/** The router as the runner sees it: every change is one runtime command, no reload. */
export class HaproxyRouter {
  constructor(
    readonly socketPath: string,
    readonly mapPath: string,
    private readonly sleep: Sleep,
    private readonly now: () => number,
  ) {}

  async command(command: string): Promise<string> {
    return sendRuntimeCommand(this.socketPath, command);
  }

  async servers(): Promise<ObservedServer[]> {
    return parseShowStat(await this.command('show stat'));
  }

  async activeSlot(): Promise<Slot> {
    return parseActiveSlot(await this.command(`show map ${this.mapPath}`)) ?? 'blue';
  }

  async addServer(slot: Slot, server: string, address: string, weight = 100): Promise<void> {
    const existing = (await this.servers()).find((s) => s.slot === slot && s.server === server);
    if (!existing)
      expectEmpty(
        await this.command(`add server ${slot}/${server} ${address} ${SERVER_OPTIONS}`),
        'add server',
      );
    expectEmpty(await this.command(`enable health ${slot}/${server}`), 'enable health');
    // Before it is made ready: a canary gets its first share, never a moment of full weight.
    await this.setWeight(slot, server, weight);
    await this.ready(slot, server);
  }

  /** Relative share of its backend's traffic (0–256); canary steps shift traffic with it. */
  async setWeight(slot: Slot, server: string, weight: number): Promise<void> {
    expectEmpty(await this.command(`set server ${slot}/${server} weight ${weight}`), 'set server weight');
  }

  async ready(slot: Slot, server: string): Promise<void> {
    expectEmpty(await this.command(`set server ${slot}/${server} state ready`), 'set server state ready');
  }

  /** Drain: no new requests; wait (bounded) until its sessions reach zero; then maintenance. */
  async drain(
    slot: Slot,
    server: string,
    timeoutMs: number,
  ): Promise<{ waitedMs: number; leftSessions: number }> {
    const start = this.now();
    const current = (await this.servers()).find((s) => s.slot === slot && s.server === server);
    if (!current) return { waitedMs: 0, leftSessions: 0 };
    expectEmpty(await this.command(`set server ${slot}/${server} state drain`), 'set server state drain');
    let sessions: number;
    for (;;) {
      sessions = (await this.servers()).find((s) => s.slot === slot && s.server === server)?.sessions ?? 0;
      if (sessions === 0 || this.now() - start >= timeoutMs) break;
      await this.sleep(50);
    }
    expectEmpty(await this.command(`set server ${slot}/${server} state maint`), 'set server state maint');
    return { waitedMs: this.now() - start, leftSessions: sessions };
  }

  async removeServer(slot: Slot, server: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (!(await this.servers()).some((s) => s.slot === slot && s.server === server)) return;
      await this.command(`set server ${slot}/${server} state maint`);
      await this.command(`shutdown sessions server ${slot}/${server}`);
      const answer = (await this.command(`del server ${slot}/${server}`)).trim();
      if (answer === '' || /deleted/i.test(answer)) return;
      // Servers a restarted router read from its file use the DNS resolvers, and HAProxy refuses to
      // delete those at run time. In maintenance they get no traffic and no checks; the file written
      // after this step no longer lists them, so the next router restart drops them.
      if (/cannot be removed at runtime/i.test(answer)) return;
      // Idle connections are released asynchronously; give it a moment, bounded.
      if (attempt >= 50) throw new StepFailedError(`router could not remove ${slot}/${server}: ${answer}`);
      await this.sleep(100);
    }
  }

  async switchTo(slot: Slot): Promise<void> {
    expectEmpty(await this.command(`set map ${this.mapPath} active ${slot}`), 'set map');
  }
}
