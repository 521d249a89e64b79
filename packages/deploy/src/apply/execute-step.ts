import { environmentNetwork, replicaContainerSpec } from '../containers/container-spec.js';
import type { CheckResult } from '../health/checks.js';
import type { Step } from '../plan/types.js';
import { analyzeCanary, watchAfterSwitch } from './canary-analysis.js';
import {
  checkDeps,
  checkReplicas,
  containerAddress,
  endpoint,
  ensureRouter,
  persistRouter,
  runMigration,
  type Runtime,
} from './runtime.js';

/** Executes one step. Every step is idempotent, so undo and recovery may repeat one safely. */
export async function executeStep(rt: Runtime, step: Step): Promise<CheckResult[]> {
  switch (step.kind) {
    case 'ensure-router':
      await ensureRouter(rt);
      return [];
    case 'run-migration':
      await runMigration(rt, step.image, step.command);
      return [];
    case 'start-replica': {
      const existing = await rt.engine.inspectContainer(step.replica.name);
      const id =
        existing?.Id ??
        (await rt.engine.createContainer(
          step.replica.name,
          replicaContainerSpec({
            app: rt.config.app,
            environment: rt.config.name,
            spec: step.replica,
            containerPort: rt.config.containerPort,
            env: rt.replicaEnv,
            command: rt.config.image.command,
            network: environmentNetwork(rt.config),
            features: await rt.engine.features(),
            healthStartPeriodMs: rt.config.healthChecks.container.timeoutMs,
          }),
        ));
      await rt.engine.startContainer(id);
      return [];
    }
    case 'check-replicas':
      return checkReplicas(rt, step.replicas, step.checks);
    case 'add-server':
      await rt.router.addServer(
        step.slot,
        step.server,
        await containerAddress(rt, step.replica),
        step.weight ?? 100,
      );
      rt.joinedAt.set(`${step.slot}/${step.server}`, rt.now());
      await persistRouter(rt);
      return [];
    case 'set-weights': {
      const present = new Set(
        (await rt.router.servers()).filter((s) => s.slot === step.slot).map((s) => s.server),
      );
      // Idempotent for undo and recovery: a server already gone has no weight to restore.
      for (const w of step.weights)
        if (present.has(w.server)) await rt.router.setWeight(step.slot, w.server, w.weight);
      await persistRouter(rt);
      return [];
    }
    case 'analyze-canary':
      return analyzeCanary(rt, step);
    case 'watch': {
      const endpoints = [];
      for (const n of step.replicas) endpoints.push(await endpoint(rt, n));
      return watchAfterSwitch(rt, step, checkDeps(rt), endpoints);
    }
    case 'ready-server':
      if ((await rt.router.servers()).some((s) => s.slot === step.slot && s.server === step.server))
        await rt.router.ready(step.slot, step.server);
      await persistRouter(rt);
      return [];
    case 'drain-server': {
      const r = await rt.router.drain(step.slot, step.server, step.timeoutMs);
      if (r.leftSessions > 0)
        rt.progress(`    ! ${step.server} still had ${r.leftSessions} session(s) after ${r.waitedMs} ms`);
      await persistRouter(rt);
      return [];
    }
    case 'remove-server':
      await rt.router.removeServer(step.slot, step.server);
      await persistRouter(rt);
      return [];
    case 'stop-replica':
      await rt.engine.stopContainer(step.replica);
      return [];
    case 'restart-replica':
      await rt.engine.startContainer(step.replica);
      return checkReplicas(rt, [step.replica], ['container', 'api']);
    case 'remove-replica':
      await rt.engine.removeContainer(step.replica);
      return [];
    case 'switch-slot':
      await rt.router.switchTo(step.to);
      await persistRouter(rt);
      return [];
    case 'retain-slot':
      return [];
  }
}
