import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadWorkflowParser } from './load-workflow-parser.js';

/**
 * Checks GitHub workflow files: GitHub's own schema (through @actions/workflow-parser) and our rules —
 * every third-party action pinned to a full commit SHA with a `# vX.Y.Z` comment, least-privilege
 * permissions (read-only at the top, writes granted per job), and a concurrency group for every job that
 * deploys to an environment. `checkWorkflowRules` is pure; `checkWorkflowFiles` reads the files.
 */

/**
 * How many times a workflow's YAML aliases may be expanded. A "billion laughs" file nests aliases of
 * aliases so that a few hundred bytes expand to gigabytes (GitHub's workflow parser follows every alias
 * without a limit: such a file hung `itsctl workflows`); real workflows use a handful. 100 is the yaml
 * package's default, set here so that it is a decision.
 */
const MAX_YAML_ALIASES = 100;

/** The one-line reason a workflow's YAML cannot be turned into data. */
function yamlProblem(error: unknown): string {
  const message = (error as Error).message.split('\n')[0] ?? '';
  return /excessive alias count/i.test(message)
    ? `its YAML aliases expand more than ${MAX_YAML_ALIASES} times (an alias bomb?): write the values out instead of nesting aliases`
    : message;
}

export interface WorkflowProblem {
  file: string;
  /** A field path such as jobs.build.steps[2].uses, or a line number. */
  where: string;
  message: string;
}

const permissionLevel = z.enum(['read', 'write', 'none']);
const permissionsSchema = z.union([z.enum(['read-all', 'write-all']), z.record(z.string(), permissionLevel)]);
const stepSchema = z.object({ uses: z.string().optional(), run: z.string().optional() }).passthrough();
const jobSchema = z
  .object({
    permissions: permissionsSchema.optional(),
    environment: z.union([z.string(), z.object({ name: z.string() }).passthrough()]).optional(),
    concurrency: z.union([z.string(), z.object({ group: z.string() }).passthrough()]).optional(),
    steps: z.array(stepSchema).optional(),
    uses: z.string().optional(),
  })
  .passthrough();
/** The part of a workflow's structure our rules read. */
export const workflowSchema = z
  .object({
    name: z.string().optional(),
    on: z.unknown(),
    permissions: permissionsSchema.optional(),
    concurrency: z.union([z.string(), z.object({ group: z.string() }).passthrough()]).optional(),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    jobs: z.record(z.string(), jobSchema),
  })
  .passthrough();
export type Workflow = z.infer<typeof workflowSchema>;

const PINNED_USES = /^\s*-?\s*uses:\s*([^\s#@]+)@([^\s#]+)\s*(?:#\s*(\S+))?/;

function isRemoteAction(name: string): boolean {
  return !name.startsWith('./') && !name.startsWith('docker://');
}

/** Line-level: the version comment is not in the parsed YAML. */
function checkPins(file: string, text: string): WorkflowProblem[] {
  const problems: WorkflowProblem[] = [];
  text.split('\n').forEach((line, index) => {
    const match = PINNED_USES.exec(line);
    if (match === null) return;
    const [, action = '', ref = '', comment] = match;
    if (!isRemoteAction(action)) return;
    const where = `line ${index + 1}`;
    if (!/^[0-9a-f]{40}$/.test(ref)) {
      problems.push({
        file,
        where,
        message: `${action}@${ref}: pin to a full 40-hex commit SHA (a tag or branch can be moved)`,
      });
    } else if (comment === undefined || !/^v\d+(\.\d+){0,2}$/.test(comment)) {
      problems.push({
        file,
        where,
        message: `${action}@${ref}: add the release it is, as a comment: # vX.Y.Z`,
      });
    }
  });
  return problems;
}

function hasWrite(permissions: Workflow['permissions']): boolean {
  if (permissions === undefined) return false;
  if (typeof permissions === 'string') return permissions === 'write-all';
  return Object.values(permissions).includes('write');
}

export function checkWorkflowRules(
  file: string,
  text: string,
): { workflow: Workflow | null; problems: WorkflowProblem[] } {
  const problems: WorkflowProblem[] = [];
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    return { workflow: null, problems: [{ file, where: 'yaml', message: yamlProblem(error) }] };
  }
  const parsed = workflowSchema.safeParse(document);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      problems.push({ file, where: issue.path.join('.') || '(root)', message: issue.message });
    return { workflow: null, problems };
  }
  const workflow = parsed.data;
  problems.push(...checkPins(file, text));

  if (workflow.permissions === undefined) {
    problems.push({
      file,
      where: 'permissions',
      message: 'set top-level permissions (contents: read) so jobs start with least privilege',
    });
  } else if (hasWrite(workflow.permissions) || workflow.permissions === 'read-all') {
    problems.push({
      file,
      where: 'permissions',
      message: 'top-level permissions must be narrow and read-only (contents: read); grant writes per job',
    });
  }
  for (const [id, job] of Object.entries(workflow.jobs)) {
    if (job.environment !== undefined) {
      const environment = typeof job.environment === 'string' ? job.environment : job.environment.name;
      const concurrency = job.concurrency ?? workflow.concurrency;
      const group = typeof concurrency === 'string' ? concurrency : concurrency?.group;
      if (group === undefined) {
        problems.push({
          file,
          where: `jobs.${id}.concurrency`,
          message: `job deploys to ${environment}: add a concurrency group per environment`,
        });
      } else if (!group.includes(environment) && !group.includes('environment')) {
        problems.push({
          file,
          where: `jobs.${id}.concurrency.group`,
          message: `'${group}' does not name the environment ${environment}`,
        });
      }
    }
    if (job.permissions === 'write-all') {
      problems.push({
        file,
        where: `jobs.${id}.permissions`,
        message: 'write-all: grant only the scopes the job needs',
      });
    }
  }
  return { workflow, problems };
}

/** GitHub's schema, through the same parser GitHub's editor tooling uses. */
export async function checkWorkflowSchema(file: string, text: string): Promise<WorkflowProblem[]> {
  try {
    // The schema parser expands aliases without a limit: refuse an alias bomb before it sees the text.
    parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    // checkWorkflowRules reports the YAML error itself; an alias bomb is reported once, there.
    if (/excessive alias count/i.test((error as Error).message)) return [];
  }
  const parser = await loadWorkflowParser();
  const result = parser.parseWorkflow({ name: file, content: text }, new parser.NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((e) => e.message);
  if (result.value !== undefined && errors.length === 0) {
    const template = await parser.convertWorkflowTemplate(result.context, result.value);
    for (const e of template.errors ?? []) errors.push(e.Message);
  }
  return errors.map((message) => ({ file, where: 'schema', message }));
}

export interface WorkflowCheckReport {
  files: string[];
  problems: WorkflowProblem[];
}

export async function checkWorkflowFiles(dir: string): Promise<WorkflowCheckReport> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const problems: WorkflowProblem[] = [];
  for (const name of files) {
    const text = await readFile(join(dir, name), 'utf8');
    problems.push(...(await checkWorkflowSchema(name, text)), ...checkWorkflowRules(name, text).problems);
  }
  return { files, problems };
}
