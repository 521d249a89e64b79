/**
 * The process-edge writers (what src/bin/itsctl.ts wraps process.stdout/stderr in) with a stream
 * double; the same over a real closed pipe is in test/launcher.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type OutputStream, alreadyReported, createStreamWriter, wasReported } from './io.js';
import { StepFailedError } from '@its/core';

function fakeStream() {
  const written: string[] = [];
  let listener: ((error: NodeJS.ErrnoException) => void) | undefined;
  const stream: OutputStream = {
    write: (text) => {
      written.push(text);
      return true;
    },
    on: (_event, l) => {
      listener = l;
    },
  };
  const fail = (code: string) => listener?.(Object.assign(new Error(`write ${code}`), { code }));
  return { stream, written, fail };
}

describe('createStreamWriter', () => {
  it('writes until the reader goes away (EPIPE), then drops the rest silently', () => {
    const { stream, written, fail } = fakeStream();
    const others: Error[] = [];
    const out = createStreamWriter(stream, (e) => others.push(e));
    out.write('one\n');
    expect(out.closed).toBe(false);
    fail('EPIPE');
    fail('ERR_STREAM_DESTROYED'); // what Node emits for the writes after it
    out.write('two\n');
    expect(out.closed).toBe(true);
    expect(written).toEqual(['one\n']);
    expect(others).toEqual([]);
  });

  it('any other write error ends the stream too, reported once', () => {
    const { stream, written, fail } = fakeStream();
    const others: string[] = [];
    const out = createStreamWriter(stream, (e) => others.push(e.code ?? ''));
    fail('EIO');
    fail('EIO');
    out.write('lost\n');
    expect(others).toEqual(['EIO']);
    expect(written).toEqual([]);
  });
});

describe('alreadyReported', () => {
  it('marks that error only, and returns it for `throw`', () => {
    const error = new StepFailedError('gate failed');
    expect(alreadyReported(error)).toBe(error);
    expect(wasReported(error)).toBe(true);
    expect(wasReported(new StepFailedError('gate failed'))).toBe(false);
    expect(wasReported('a string')).toBe(false);
  });
});
