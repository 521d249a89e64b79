import type { ObservedReplica, Slot } from '../plan/types.js';
import type { PersistedServer } from './haproxy-config.js';

/**
 * A router whose state directory (`<state>/router/`, bind-mounted at /var/run/its-router) was deleted
 * under it keeps serving from memory, but its admin socket is gone: nothing can change it, and every
 * command used to wait 15 s for a socket that would never answer. These pure functions tell that case
 * apart from a router that is merely starting, and decide what to write back so a restarted router
 * serves what runs: the replicas from their labels, and the slot traffic went to.
 */

/** What the engine and the file system show of an environment's router. */
export interface RouterFacts {
  /** The container exists. */
  exists: boolean;
  running: boolean;
  /** When the container last started (epoch ms), if the engine says. */
  startedAtMs: number | undefined;
  nowMs: number;
  /** The host directory bind-mounted into the router. */
  dirExists: boolean;
  /** Its admin.sock, which HAProxy creates at start. */
  socketExists: boolean;
}

export type RouterCondition =
  | { kind: 'absent' }
  | { kind: 'stopped' }
  /** Running, its socket not there yet: HAProxy is starting (within the grace period). */
  | { kind: 'starting' }
  /** Running with its socket: ask it. */
  | { kind: 'ready' }
  /** Running, but its directory or socket was deleted under it: it cannot be driven until restarted. */
  | { kind: 'lost'; what: 'directory' | 'socket' };

/** HAProxy creates its socket within a second of starting; 15 s is the wait every command allows. */
export const ROUTER_START_GRACE_MS = 15_000;

export function diagnoseRouter(f: RouterFacts): RouterCondition {
  if (!f.exists) return { kind: 'absent' };
  if (!f.running) return { kind: 'stopped' };
  // A running router was started from this directory: without it, it was deleted afterwards.
  if (!f.dirExists) return { kind: 'lost', what: 'directory' };
  if (f.socketExists) return { kind: 'ready' };
  const startedRecently = f.startedAtMs === undefined || f.nowMs - f.startedAtMs < ROUTER_START_GRACE_MS;
  return startedRecently ? { kind: 'starting' } : { kind: 'lost', what: 'socket' };
}

/** The sentence that says what happened (the error of commands that do not repair, the deploy's note). */
export function describeRouterLoss(router: string, dir: string, what: 'directory' | 'socket'): string {
  return what === 'directory'
    ? `router ${router} is running, but its state directory ${dir} was deleted under it: its admin socket went with it, so the router can no longer be changed (it still serves what it had)`
    : `router ${router} is running, but its admin socket ${dir}/admin.sock was deleted under it, so the router can no longer be changed (it still serves what it had)`;
}

export interface RouterRestoreInput {
  /** Every replica container of the environment, from its labels. */
  replicas: ObservedReplica[];
  containerPort: number;
  /** A slot.map found in the directory (written by hand, or left when only the socket went). */
  persistedSlot: Slot | undefined;
  /** The digest of the environment's last successful deployment, when the store still has one. */
  lastDigest: string | undefined;
  /** The backend of the last request in the router's own log, when it logged one. */
  lastLoggedBackend: Slot | undefined;
  /** For the message when the slot cannot be told. */
  dir: string;
}

export type RouterRestore =
  | { ok: true; servers: PersistedServer[]; activeSlot: Slot; because: string }
  | { ok: false; reason: string; fix: string };

const SLOTS: Slot[] = ['blue', 'green'];

/**
 * What the recreated router files hold: every running replica (fresh canary baselines excepted: they
 * never outlive their canary) in its slot's backend, ready at full weight — the state between
 * deployments — and the slot traffic goes to. The slot is the one that runs replicas when only one
 * does; when both do (a blue-green set kept for rollback), the evidence decides, strongest first: a
 * slot map left in the directory, the last successful deployment's digest, the router's last logged
 * request. Without any, guessing could send all traffic to the kept version: it refuses and says how
 * to decide.
 */
export function planRouterRestore(input: RouterRestoreInput): RouterRestore {
  const serving = input.replicas.filter((r) => r.running && !r.baseline && r.server !== '');
  const servers: PersistedServer[] = serving.map((r) => ({
    slot: r.slot,
    server: r.server,
    host: r.name,
    port: input.containerPort,
    state: 'ready',
    weight: 100,
  }));
  const occupied = SLOTS.filter((slot) => serving.some((r) => r.slot === slot));
  const done = (activeSlot: Slot, because: string): RouterRestore => ({
    ok: true,
    servers,
    activeSlot,
    because,
  });
  if (occupied.length === 1) return done(occupied[0]!, `only slot ${occupied[0]} runs replicas`);
  if (occupied.length === 0)
    return done(input.persistedSlot ?? 'blue', 'no replica runs; nothing is served either way');
  if (input.persistedSlot) return done(input.persistedSlot, `the slot map left in ${input.dir} says so`);
  const byDigest = SLOTS.filter((slot) =>
    serving.some((r) => r.slot === slot && r.digest === input.lastDigest),
  );
  if (input.lastDigest !== undefined && byDigest.length === 1)
    return done(byDigest[0]!, `it runs the last successful deployment (${input.lastDigest})`);
  if (input.lastLoggedBackend)
    return done(
      input.lastLoggedBackend,
      `the router's last logged request went to ${input.lastLoggedBackend}`,
    );
  const versions = SLOTS.map(
    (slot) =>
      `${slot} (${[...new Set(serving.filter((r) => r.slot === slot).map((r) => r.version))].join(', ')})`,
  ).join(' and ');
  return {
    ok: false,
    reason: `both slots run replicas, ${versions}, and neither the deployment history nor the router's log says which one served`,
    fix: `write the serving slot into ${input.dir}/slot.map (\`active blue\` or \`active green\`), then run the command again`,
  };
}
