import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StepFailedError } from '@its/core';

/**
 * History, audit, journal and locks of one environment in embedded SQLite. What runs is read from
 * the engine and the router; this store keeps what happened (and, for an interrupted run, the steps
 * it had started, so the next command can undo them).
 */

export type Outcome = 'running' | 'succeeded' | 'rolled-back' | 'failed' | 'interrupted' | 'recovered';

export interface DeploymentRecord {
  id: string;
  environment: string;
  who: string;
  action: 'deploy' | 'rollback';
  version: string;
  digest: string;
  image: string;
  strategy: string;
  fromVersion: string | null;
  fromDigest: string | null;
  startedAt: string;
  endedAt: string | null;
  outcome: Outcome;
  reason: string | null;
  checks: unknown[];
  pid: number;
  host: string;
}

export interface LockRecord {
  environment: string;
  holder: string;
  pid: number;
  host: string;
  reason: string;
  deploymentId: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface JournalEntry {
  seq: number;
  step: unknown;
  undo: unknown[];
  state: 'started' | 'done' | 'undone';
}

export class LockHeldError extends StepFailedError {
  constructor(readonly lock: LockRecord) {
    super(
      `environment ${lock.environment} is locked by ${lock.holder} (pid ${lock.pid} on ${lock.host}) since ${lock.acquiredAt}: ${lock.reason}`,
      {
        fix: `wait for that deployment to finish; if it is gone, \`itsctl lock release -e ${lock.environment}\``,
      },
    );
  }
}

export interface LockCheck {
  /** Whether a process of this host is alive (kill(pid, 0)). */
  isAlive: (pid: number) => boolean;
  hostname: string;
  now: () => Date;
}

type Row = Record<string, unknown>;

/**
 * Why a lock may be taken over — its holder's pid is gone on this host, or it expired — or undefined
 * while its holder lives (pure: acquireLock decides with it, a dry run reports with it).
 */
export function lockTakeover(existing: LockRecord, check: LockCheck): string | undefined {
  const expired = Date.parse(existing.expiresAt) <= check.now().getTime();
  const dead = existing.host === check.hostname && !check.isAlive(existing.pid);
  if (dead) return `its holder (pid ${existing.pid} on ${existing.host}) is no longer running`;
  if (expired) return `it expired at ${existing.expiresAt}`;
  return undefined;
}

export class DeployStore {
  readonly db: Database.Database;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS deployments (
        id TEXT PRIMARY KEY, environment TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
        version TEXT NOT NULL, digest TEXT NOT NULL, image TEXT NOT NULL, strategy TEXT NOT NULL,
        from_version TEXT, from_digest TEXT, started_at TEXT NOT NULL, ended_at TEXT,
        outcome TEXT NOT NULL, reason TEXT, checks TEXT NOT NULL DEFAULT '[]', pid INTEGER NOT NULL, host TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS journal (
        deployment_id TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, undo TEXT NOT NULL, state TEXT NOT NULL,
        PRIMARY KEY (deployment_id, seq));
      CREATE TABLE IF NOT EXISTS locks (
        environment TEXT PRIMARY KEY, holder TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, reason TEXT NOT NULL,
        deployment_id TEXT NOT NULL, acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS evidence (
        id INTEGER PRIMARY KEY AUTOINCREMENT, deployment_id TEXT NOT NULL, entry TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS evidence_by_deployment ON evidence (deployment_id);
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, environment TEXT NOT NULL, who TEXT NOT NULL,
        action TEXT NOT NULL, detail TEXT NOT NULL);
    `);
  }

  close(): void {
    this.db.close();
  }

  audit(at: Date, environment: string, who: string, action: string, detail: string): void {
    this.db
      .prepare('INSERT INTO audit (at, environment, who, action, detail) VALUES (?, ?, ?, ?, ?)')
      .run(at.toISOString(), environment, who, action, detail);
  }

  auditLog(
    environment: string,
    limit = 50,
  ): Array<{ at: string; who: string; action: string; detail: string }> {
    return this.db
      .prepare('SELECT at, who, action, detail FROM audit WHERE environment = ? ORDER BY id DESC LIMIT ?')
      .all(environment, limit) as never;
  }

  /**
   * Takes the environment's lock in one IMMEDIATE transaction. A live, unexpired holder wins (LockHeldError);
   * a dead holder (its pid gone on this host) or an expired lock is taken over, and the takeover returned.
   */
  acquireLock(
    lock: Omit<LockRecord, 'acquiredAt' | 'expiresAt'>,
    ttlSeconds: number,
    check: LockCheck,
  ): { takenOver: LockRecord | undefined; why: string | undefined } {
    const now = check.now();
    const tx = this.db.transaction(() => {
      const existing = this.readLock(lock.environment);
      let why: string | undefined;
      if (existing) {
        why = lockTakeover(existing, { ...check, now: () => now });
        if (why === undefined) throw new LockHeldError(existing);
      }
      this.db
        .prepare(
          'INSERT OR REPLACE INTO locks (environment, holder, pid, host, reason, deployment_id, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          lock.environment,
          lock.holder,
          lock.pid,
          lock.host,
          lock.reason,
          lock.deploymentId,
          now.toISOString(),
          new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
        );
      return { takenOver: existing, why };
    });
    return tx.immediate();
  }

  refreshLock(environment: string, deploymentId: string, ttlSeconds: number, now: Date): void {
    this.db
      .prepare('UPDATE locks SET expires_at = ? WHERE environment = ? AND deployment_id = ?')
      .run(new Date(now.getTime() + ttlSeconds * 1000).toISOString(), environment, deploymentId);
  }

  releaseLock(environment: string, deploymentId?: string): boolean {
    const res = deploymentId
      ? this.db
          .prepare('DELETE FROM locks WHERE environment = ? AND deployment_id = ?')
          .run(environment, deploymentId)
      : this.db.prepare('DELETE FROM locks WHERE environment = ?').run(environment);
    return res.changes > 0;
  }

  readLock(environment: string): LockRecord | undefined {
    const row = this.db.prepare('SELECT * FROM locks WHERE environment = ?').get(environment) as
      Row | undefined;
    if (!row) return undefined;
    return {
      environment: String(row.environment),
      holder: String(row.holder),
      pid: Number(row.pid),
      host: String(row.host),
      reason: String(row.reason),
      deploymentId: String(row.deployment_id),
      acquiredAt: String(row.acquired_at),
      expiresAt: String(row.expires_at),
    };
  }

  startDeployment(d: Omit<DeploymentRecord, 'endedAt' | 'outcome' | 'reason' | 'checks'>): void {
    this.db
      .prepare(
        `INSERT INTO deployments (id, environment, who, action, version, digest, image, strategy, from_version, from_digest, started_at, outcome, pid, host)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(
        d.id,
        d.environment,
        d.who,
        d.action,
        d.version,
        d.digest,
        d.image,
        d.strategy,
        d.fromVersion,
        d.fromDigest,
        d.startedAt,
        d.pid,
        d.host,
      );
  }

  finishDeployment(
    id: string,
    outcome: Outcome,
    endedAt: Date,
    reason: string | null,
    checks: unknown[],
  ): void {
    this.db
      .prepare('UPDATE deployments SET outcome = ?, ended_at = ?, reason = ?, checks = ? WHERE id = ?')
      .run(outcome, endedAt.toISOString(), reason, JSON.stringify(checks), id);
  }

  history(environment: string, limit = 20): DeploymentRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM deployments WHERE environment = ? ORDER BY started_at DESC, rowid DESC LIMIT ?')
      .all(environment, limit) as Row[];
    return rows.map((r) => ({
      id: String(r.id),
      environment: String(r.environment),
      who: String(r.who),
      action: r.action as DeploymentRecord['action'],
      version: String(r.version),
      digest: String(r.digest),
      image: String(r.image),
      strategy: String(r.strategy),
      fromVersion: (r.from_version as string | null) ?? null,
      fromDigest: (r.from_digest as string | null) ?? null,
      startedAt: String(r.started_at),
      endedAt: (r.ended_at as string | null) ?? null,
      outcome: r.outcome as Outcome,
      reason: (r.reason as string | null) ?? null,
      checks: JSON.parse(String(r.checks)) as unknown[],
      pid: Number(r.pid),
      host: String(r.host),
    }));
  }

  /** One deployment by id (any environment of this store), or undefined. */
  deployment(id: string): DeploymentRecord | undefined {
    const row = this.db.prepare('SELECT environment FROM deployments WHERE id = ?').get(id) as
      Row | undefined;
    if (!row) return undefined;
    return this.history(String(row.environment), 100_000).find((d) => d.id === id);
  }

  /** Keeps one piece of analysis evidence the moment it exists (a killed command loses none). */
  addEvidence(deploymentId: string, entry: unknown): void {
    this.db
      .prepare('INSERT INTO evidence (deployment_id, entry) VALUES (?, ?)')
      .run(deploymentId, JSON.stringify(entry));
  }

  evidence(deploymentId: string): unknown[] {
    return (
      this.db
        .prepare('SELECT entry FROM evidence WHERE deployment_id = ? ORDER BY id')
        .all(deploymentId) as Row[]
    ).map((r) => JSON.parse(String(r.entry)) as unknown);
  }

  unfinished(environment: string): DeploymentRecord[] {
    return this.history(environment, 1000).filter((d) => d.outcome === 'running');
  }

  journalStart(deploymentId: string, seq: number, step: unknown, undo: unknown[]): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO journal (deployment_id, seq, step, undo, state) VALUES (?, ?, ?, ?, ?)',
      )
      .run(deploymentId, seq, JSON.stringify(step), JSON.stringify(undo), 'started');
  }

  journalMark(deploymentId: string, seq: number, state: JournalEntry['state']): void {
    this.db
      .prepare('UPDATE journal SET state = ? WHERE deployment_id = ? AND seq = ?')
      .run(state, deploymentId, seq);
  }

  journal(deploymentId: string): JournalEntry[] {
    const rows = this.db
      .prepare('SELECT seq, step, undo, state FROM journal WHERE deployment_id = ? ORDER BY seq')
      .all(deploymentId) as Row[];
    return rows.map((r) => ({
      seq: Number(r.seq),
      step: JSON.parse(String(r.step)),
      undo: JSON.parse(String(r.undo)) as unknown[],
      state: r.state as JournalEntry['state'],
    }));
  }
}
