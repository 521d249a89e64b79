/**
 * Streams a JSON file and hands over only the values at the paths a reader selects (e.g. each
 * `runs.*.results.*` of a SARIF log), assembled one at a time, so a report of any size is read in
 * bounded memory. Uses stream-json's tokenizer; the path bookkeeping is ours.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import Assembler from 'stream-json/Assembler.js';
import Parser from 'stream-json/Parser.js';

export type JsonPath = readonly (string | number)[];

interface Token {
  name: string;
  value?: string;
}

interface Frame {
  kind: 'object' | 'array';
  key: string | number;
}

const PRIMITIVE: Record<string, (v: string | undefined) => unknown> = {
  stringValue: (v) => v,
  numberValue: (v) => Number(v),
  nullValue: () => null,
  trueValue: () => true,
  falseValue: () => false,
};

/**
 * Calls `onValue` for every value whose path `select` accepts (selected values are not descended into).
 * Rejects with the parser's message (which carries the position) on malformed JSON, and on an empty file.
 */
export async function streamJsonValues(
  file: string,
  select: (path: JsonPath) => boolean,
  onValue: (path: JsonPath, value: unknown) => void,
): Promise<void> {
  // Checked first so an empty report says so, instead of the tokenizer's "expected a value".
  if ((await stat(file)).size === 0) throw new Error('the file is empty (no JSON value)');
  const parser = new Parser({ packValues: true, streamValues: false });
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  const stack: Frame[] = [];
  let assembler: Assembler | undefined;
  let assemblingAt: JsonPath = [];
  let sawValue = false;

  for await (const token of parser as AsyncIterable<Token>) {
    if (assembler) {
      assembler.consume(token);
      if (assembler.done) {
        onValue(assemblingAt, assembler.current);
        assembler = undefined;
      }
      continue;
    }
    switch (token.name) {
      case 'keyValue':
        stack.at(-1)!.key = token.value!;
        break;
      case 'endObject':
      case 'endArray':
        stack.pop();
        break;
      case 'startObject':
      case 'startArray':
      default: {
        const convert = PRIMITIVE[token.name];
        if (!convert && token.name !== 'startObject' && token.name !== 'startArray') break;
        sawValue = true;
        const parent = stack.at(-1);
        if (parent?.kind === 'array') parent.key = (parent.key as number) + 1;
        const path = stack.map((f) => f.key);
        if (select(path)) {
          if (convert) onValue(path, convert(token.value));
          else {
            assembler = new Assembler();
            assembler.consume(token);
            assemblingAt = path;
          }
        } else if (token.name === 'startObject') stack.push({ kind: 'object', key: '' });
        else if (token.name === 'startArray') stack.push({ kind: 'array', key: -1 });
      }
    }
  }
  if (!sawValue) throw new Error('the file is empty (no JSON value)');
}

/** `*` matches any key or index in a path pattern. */
export function pathMatches(path: JsonPath, pattern: readonly (string | number)[]): boolean {
  return path.length === pattern.length && pattern.every((p, i) => p === '*' || p === path[i]);
}

/**
 * What the top two levels of a JSON document show: enough to tell which tool wrote it
 * (detect-format.ts). Every list is capped, so the outline stays small whatever the document holds.
 */
export interface JsonOutline {
  root: 'object' | 'array' | 'scalar';
  /** Top-level keys in document order (an object root). */
  keys: string[];
  /** Top-level keys whose value is a string, number, boolean or null, with that value. */
  scalars: Map<string, unknown>;
  /** The keys of the objects one level down: by top-level key, or by index for an array root. */
  children: Map<string, string[]>;
  /** Elements of an array root seen so far. */
  items: number;
  /** Set when the document stops being valid JSON after what the outline holds. */
  error?: string;
}

const OUTLINE_KEYS = 64;
const OUTLINE_CHILDREN = 16;

/**
 * Reads a JSON document's outline, token by token, and stops as soon as `enough` says the outline
 * decides the question, so telling a 50 MB report's format costs its first few keys, not a second
 * parse. Undefined when the file holds no JSON value at all. A parse error after the first token is
 * kept in `error` (a truncated report still shows what it is); one before it rejects.
 */
export async function outlineJson(
  file: string,
  enough: (outline: JsonOutline) => boolean,
): Promise<JsonOutline | undefined> {
  const parser = new Parser({ packValues: true, streamValues: false });
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);

  let outline: JsonOutline | undefined;
  let depth = 0;
  let key = '';
  let child: string[] | undefined;
  try {
    for await (const token of parser as AsyncIterable<Token>) {
      const convert = PRIMITIVE[token.name];
      if (token.name === 'startObject' || token.name === 'startArray' || convert) {
        const value = {
          root: token.name === 'startObject' ? 'object' : token.name === 'startArray' ? 'array' : 'scalar',
        } as const;
        if (!outline) {
          outline = { ...value, keys: [], scalars: new Map(), children: new Map(), items: 0 };
        } else if (depth === 1) {
          const at = outline.root === 'array' ? String(outline.items++) : key;
          if (convert && outline.root === 'object') outline.scalars.set(key, convert(token.value));
          child = undefined;
          if (token.name === 'startObject' && outline.children.size < OUTLINE_CHILDREN)
            outline.children.set(at, (child = []));
        }
        if (!convert) depth++;
      } else if (token.name === 'endObject' || token.name === 'endArray') depth--;
      else if (token.name === 'keyValue' && outline) {
        if (depth === 1) {
          key = token.value!;
          if (outline.keys.length < OUTLINE_KEYS) outline.keys.push(key);
        } else if (depth === 2 && child && child.length < OUTLINE_KEYS) child.push(token.value!);
      }
      if (outline && depth <= 2 && enough(outline)) break;
    }
  } catch (err) {
    if (!outline) throw err;
    outline.error = (err as Error).message;
  } finally {
    input.unpipe(parser);
    input.destroy();
    parser.destroy();
  }
  return outline;
}
