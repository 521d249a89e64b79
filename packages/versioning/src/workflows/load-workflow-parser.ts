import { register } from 'node:module';
import type * as WorkflowParser from '@actions/workflow-parser';

/**
 * @actions/workflow-parser (GitHub's own workflow schema, from actions/languageservices) imports its
 * schema JSON without an import attribute, which bundlers accept and Node's ESM loader refuses.
 * A one-function loader hook adds `type: 'json'` for that package's JSON files only, so the parser
 * loads in plain Node, under tsx and under Vitest alike.
 */
const HOOK = `export async function load(url, context, next) {
  if (url.includes('/@actions/workflow-parser/') && url.endsWith('.json') && !context.importAttributes?.type) {
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  }
  return next(url, context);
}`;

let registered = false;

export async function loadWorkflowParser(): Promise<typeof WorkflowParser> {
  if (!registered) {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    registered = true;
  }
  return import('@actions/workflow-parser');
}
