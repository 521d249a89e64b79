/**
 * The deploy context every deployment command passes to @its/deploy (deploy, status, history, lock,
 * retire, teardown). It lives here, not in commands/deploy/, so command folders never import each other.
 */
import type { DeployContext } from '@its/deploy';
import { type CliIo, log } from '../../cli/io.js';

/** The deploy context of a CLI command: real clock and stderr, and an abort wired to SIGINT/SIGTERM. */
export function deployContext(io: CliIo, signal: AbortSignal = new AbortController().signal): DeployContext {
  return {
    cwd: io.cwd,
    env: io.env,
    now: io.now,
    log: (line) => log(io, line),
    signal,
    ...(io.env.ITS_DEPLOY_ENVIRONMENTS ? { environmentsDir: io.env.ITS_DEPLOY_ENVIRONMENTS } : {}),
    ...(io.env.ITS_DEPLOY_STATE_DIR ? { stateDir: io.env.ITS_DEPLOY_STATE_DIR } : {}),
  };
}
