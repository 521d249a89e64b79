import { UsageError } from '@its/core';

/**
 * The `{{…}}` expressions of docker/metadata-action's rules: a helper name, optional quoted
 * positional arguments and key=value options, e.g. `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}`.
 * The action compiles them with Handlebars; this is the subset it uses, with Handlebars' HTML
 * escaping of `{{…}}` (a branch `a&b` gives the label value `a&amp;b` there, so it does here) and
 * none for `{{{…}}}`. One deliberate difference: an unknown name is an error naming it, where
 * Handlebars would silently render ''.
 */

export type Helper = (args: string[], options: Record<string, string>) => string | number;
export type Helpers = Readonly<Record<string, Helper>>;

interface Expression {
  name: string;
  args: string[];
  options: Record<string, string>;
}

const MUSTACHE = /\{\{(\{?)\s*([^}]*?)\s*\}?\}\}/g;
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

/** Handlebars' escapeExpression. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (ch) => ESCAPES[ch] ?? ch);
}
// A quoted string, or a key=value pair (value quoted or bare), or a bare word.
const ARGUMENT = /\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][\w-]*)=(?:'([^']*)'|"([^"]*)"|(\S+))|(\S+))/y;

function parseExpression(body: string, where: string): Expression {
  const nameMatch = /^[A-Za-z_][\w-]*/.exec(body);
  if (nameMatch === null) {
    throw new UsageError(`${where}: malformed expression '{{${body}}}'`, {
      fix: "write an expression as {{name}} or {{name 'argument' key='value'}}",
    });
  }
  // No prototype: an option named __proto__ is stored, not taken as the object's prototype.
  const options = Object.create(null) as Record<string, string>;
  const expression: Expression = { name: nameMatch[0], args: [], options };
  ARGUMENT.lastIndex = nameMatch[0].length;
  while (ARGUMENT.lastIndex < body.length) {
    const m = ARGUMENT.exec(body);
    if (m === null) break;
    const [, single, double, key, keySingle, keyDouble, keyBare, bare] = m;
    if (key !== undefined) expression.options[key] = keySingle ?? keyDouble ?? keyBare ?? '';
    else if (bare !== undefined) expression.args.push(bare);
    else expression.args.push(single ?? double ?? '');
  }
  return expression;
}

/** Replaces every `{{…}}` in `template` with its helper's value. `where` names the field for errors. */
export function renderExpressions(template: string, helpers: Helpers, where: string): string {
  return template.replace(MUSTACHE, (_all, triple: string, body: string) => {
    const expression = parseExpression(body, where);
    // Own properties only: {{constructor}}, {{toString}} or {{__proto__}} are not helpers.
    const helper = Object.hasOwn(helpers, expression.name) ? helpers[expression.name] : undefined;
    if (helper === undefined) {
      throw new UsageError(`${where}: unknown expression {{${expression.name}}}`, {
        fix: `use one of: ${
          Object.keys(helpers)
            .map((name) => `{{${name}}}`)
            .join(', ') || '(none here)'
        }`,
      });
    }
    const value = String(helper(expression.args, expression.options));
    return triple === '{' ? value : escapeHtml(value);
  });
}

/** True when the pattern is exactly `{{raw}}`: the action then keeps pre-release versions as written. */
export function isRawStatement(pattern: string): boolean {
  return /^\{\{\{?\s*raw\s*\}?\}\}$/.test(pattern);
}
