import { UsageError } from '@its/core';

/**
 * The `{{…}}` expressions of docker/metadata-action's rules: a helper name, optional positional
 * arguments and key=value options, e.g. `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}`.
 * The action compiles them with Handlebars; this is the subset it uses, with Handlebars' HTML
 * escaping of `{{…}}` (a branch `a&b` gives the label value `a&amp;b` there, so it does here) and
 * none for `{{{…}}}`, and Handlebars' reading of an argument: quoted, it is text; unquoted, it is a
 * literal (a number, true, false, null, undefined) or the name of a variable. The only names the
 * action's templates hold are its helpers, so `{{commit_date YYYY-MM-DD}}` passes *no* value (and
 * moment then uses its default format), which is what the action does; we add a warning saying so.
 * One deliberate difference: an unknown helper is an error naming it, where Handlebars would
 * silently render ''.
 */

/** An argument's value as Handlebars passes it: undefined for an unquoted name that holds nothing. */
export type ArgValue = string | number | boolean | null | undefined;
export type Helper = (
  args: readonly ArgValue[],
  options: Readonly<Record<string, ArgValue>>,
) => string | number;
export type Helpers = Readonly<Record<string, Helper>>;

type Argument =
  { kind: 'text'; value: string } | { kind: 'literal'; value: ArgValue } | { kind: 'name'; name: string };

interface Expression {
  name: string;
  args: Argument[];
  options: Record<string, Argument>;
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

// Handlebars' literals (its lexer's NUMBER, BOOLEAN, NULL and UNDEFINED).
const LITERALS: Readonly<Record<string, ArgValue>> = { true: true, false: false, null: null, undefined };

function bareArgument(word: string): Argument {
  if (/^-?\d+(?:\.\d+)?$/.test(word)) return { kind: 'literal', value: Number(word) };
  if (Object.hasOwn(LITERALS, word)) return { kind: 'literal', value: LITERALS[word] };
  return { kind: 'name', name: word };
}

function parseExpression(body: string, where: string): Expression {
  const nameMatch = /^[A-Za-z_][\w-]*/.exec(body);
  if (nameMatch === null) {
    throw new UsageError(`${where}: malformed expression '{{${body}}}'`, {
      fix: "write an expression as {{name}} or {{name 'argument' key='value'}}",
    });
  }
  // No prototype: an option named __proto__ is stored, not taken as the object's prototype.
  const options = Object.create(null) as Record<string, Argument>;
  const expression: Expression = { name: nameMatch[0], args: [], options };
  ARGUMENT.lastIndex = nameMatch[0].length;
  while (ARGUMENT.lastIndex < body.length) {
    const m = ARGUMENT.exec(body);
    if (m === null) break;
    const [, single, double, key, keySingle, keyDouble, keyBare, bare] = m;
    if (key !== undefined) {
      expression.options[key] =
        keyBare !== undefined ? bareArgument(keyBare) : { kind: 'text', value: keySingle ?? keyDouble ?? '' };
    } else if (bare !== undefined) expression.args.push(bareArgument(bare));
    else expression.args.push({ kind: 'text', value: single ?? double ?? '' });
  }
  return expression;
}

/**
 * An argument's value. An unquoted name is a variable: one that names a helper would hand the helper
 * a function (the action then fails inside moment), so it is an error; any other holds nothing. An
 * option holding nothing is an error too: the only option, tz, fails in the action without a value.
 */
function argumentValue(
  argument: Argument,
  key: string | undefined,
  expression: Expression,
  helpers: Helpers,
  where: string,
  warn: ((message: string) => void) | undefined,
): ArgValue {
  if (argument.kind !== 'name') return argument.value;
  const { name } = argument;
  const shown = key === undefined ? name : `${key}=${name}`;
  const quoted = key === undefined ? `{{${expression.name} '${name}'}}` : `${key}='${name}'`;
  const root = name.split(/[./]/)[0] ?? name;
  if (name === 'this' || Object.hasOwn(helpers, root)) {
    throw new UsageError(
      `${where}: {{${expression.name}}}: unquoted ${name} names the {{${root}}} helper, not a value`,
      { fix: `quote it if it is text: ${quoted}` },
    );
  }
  const message =
    `${where}: {{${expression.name}}}: ${shown} is unquoted, so Handlebars reads ${name} as a variable, ` +
    'and there is none by that name';
  if (key !== undefined) throw new UsageError(message, { fix: `quote it: ${quoted}` });
  warn?.(
    `${message}: the helper gets no value (a date helper then uses moment's default format), as in ` +
      `docker/metadata-action; if it is text, quote it: ${quoted}`,
  );
  return undefined;
}

/**
 * Replaces every `{{…}}` in `template` with its helper's value. `where` names the field for errors;
 * `warn` receives what is legal but probably not meant (an unquoted argument that holds nothing).
 */
export function renderExpressions(
  template: string,
  helpers: Helpers,
  where: string,
  warn?: (message: string) => void,
): string {
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
    const args = expression.args.map((argument) =>
      argumentValue(argument, undefined, expression, helpers, where, warn),
    );
    const options = Object.create(null) as Record<string, ArgValue>;
    for (const [key, argument] of Object.entries(expression.options)) {
      options[key] = argumentValue(argument, key, expression, helpers, where, warn);
    }
    const value = String(helper(args, options));
    return triple === '{' ? value : escapeHtml(value);
  });
}

/** True when the pattern is exactly `{{raw}}`: the action then keeps pre-release versions as written. */
export function isRawStatement(pattern: string): boolean {
  return /^\{\{\{?\s*raw\s*\}?\}\}$/.test(pattern);
}
