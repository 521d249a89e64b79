/** Streams an XML file through saxes (a non-validating, streaming parser): memory stays bounded. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SaxesParser, type SaxesTagPlain } from 'saxes';

export interface XmlHandlers {
  open(tag: SaxesTagPlain, depth: number): void;
  close?(name: string, depth: number): void;
}

export async function streamXml(file: string, handlers: XmlHandlers): Promise<void> {
  if ((await stat(file)).size === 0) throw new Error('the file is empty (no XML element)');
  const parser = new SaxesParser();
  let failure: Error | undefined;
  let depth = 0;
  let sawRoot = false;
  parser.on('error', (err) => {
    failure ??= err;
  });
  parser.on('opentag', (tag) => {
    sawRoot = true;
    handlers.open(tag as SaxesTagPlain, depth);
    if (!tag.isSelfClosing) depth++;
    else handlers.close?.(tag.name, depth);
  });
  parser.on('closetag', (tag) => {
    if (tag.isSelfClosing) return;
    depth--;
    handlers.close?.(tag.name, depth);
  });
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    parser.write(chunk as string);
    // saxes reports the first problem with its line and column; later ones are consequences.
    if (failure) throw failure;
  }
  parser.close();
  if (failure) throw failure;
  if (!sawRoot) throw new Error('the file is empty (no XML element)');
}
