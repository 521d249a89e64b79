import type { CommandModule } from '../io.js';
import { gateCommand } from './gate.js';
import { releaseCommand } from './release.js';
import { tagsCommand } from './tags.js';
import { versionCommand } from './version.js';
import { workflowsCommand } from './workflows.js';
import { promoteCommand, recordCommand } from '../../promotion/promotion-commands.js';
import { publishCommand, registryCommand } from '../../registry/registry-commands.js';
import { sbomCommand, signCommand } from '../../supply-chain/supply-chain-commands.js';
import { structureTestCommand } from '../../structure-test/structure-test-command.js';
import { buildCommand } from '../../build/build-command.js';
import { deployCommand } from './deploy.js';
import { historyCommand, lockCommand, retireCommand, statusCommand } from './deploy-status.js';
import { teardownCommand } from './teardown.js';

/** Every `itsctl` command. Adding one (build, deploy, gate, publish, promote…) is one line here. */
export const commands: readonly CommandModule[] = [
  tagsCommand,
  versionCommand,
  releaseCommand,
  workflowsCommand,
  publishCommand,
  promoteCommand,
  recordCommand,
  registryCommand,
  signCommand,
  sbomCommand,
  structureTestCommand,
  buildCommand,
  gateCommand,
  deployCommand,
  statusCommand,
  historyCommand,
  lockCommand,
  retireCommand,
  teardownCommand,
];
