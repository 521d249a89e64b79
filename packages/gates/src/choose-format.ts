/**
 * Which reader a report gets, when the policy names no format: what its content shows first, its file
 * name only to break a tie or to pick the reader that explains why an empty or broken file cannot be
 * read. Pure: the clues (readers/detect-format.ts) and the name's guess in, a format or an error out.
 */
import { CONTENT_SIGNATURES, type ContentClues, type DetectableFormat } from './readers/detect-format.js';

/**
 * The report is not one a gate reads (its content fits none of the gate's formats, or fits another
 * gate's). Like a policy mistake, it fails even where the policy lets an unavailable report warn: the
 * file is there, it is just not the report the gate needs.
 */
export class UnrecognisedReportError extends Error {
  override name = 'UnrecognisedReportError';
}

export interface FormatQuestion<Format extends string> {
  /** The gate asking, for messages (`security`, `coverage.unit`). */
  gate: string;
  /** The formats the gate reads, in the order they are tried. */
  accepts: readonly Format[];
  clues: ContentClues;
  /** What the file name suggests, if anything. */
  fromName: Format | undefined;
}

export function chooseFormat<Format extends string>({
  gate,
  accepts,
  clues,
  fromName,
}: FormatQuestion<Format>): Format {
  const isAccepted = (f: string): f is Format => (accepts as readonly string[]).includes(f);
  const accepted = clues.matches.filter((m) => isAccepted(m.format));
  const best = accepted.some((m) => m.strong) ? accepted.filter((m) => m.strong) : accepted;
  const formats = [...new Set(best.map((m) => m.format as Format))];
  const setFormat = `set format: ${accepts.join(' | ')}`;

  if (formats.length === 1) return formats[0]!;
  if (formats.length > 1) {
    if (fromName !== undefined && formats.includes(fromName)) return fromName;
    throw new UnrecognisedReportError(
      `its content (${clues.seen}) fits ${formats.join(' and ')}, and its name does not say which: ${setFormat}`,
    );
  }
  const other = clues.matches.find((m) => m.strong) ?? clues.matches[0];
  if (other)
    throw new UnrecognisedReportError(
      `it is ${describe(other.format)} (${clues.seen}), which ${gate} does not read; it reads ${accepts.join(', ')}`,
    );
  // Empty or not valid JSON: the reader its name points to says exactly what is wrong, and where.
  if (clues.unreadable !== undefined) {
    if (fromName !== undefined) return fromName;
    throw new Error(
      `${clues.unreadable} (and its name does not say which format it should be: ${setFormat})`,
    );
  }
  const tried = accepts.map((f) => `${f}: ${describe(f)}`).join('; ');
  throw new UnrecognisedReportError(
    `its content (${clues.seen}) fits none of the formats ${gate} reads. Tried ${tried}. If it is one of them, ${setFormat}`,
  );
}

function describe(format: string): string {
  return CONTENT_SIGNATURES[format as DetectableFormat] ?? format;
}
