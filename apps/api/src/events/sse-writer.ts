/**
 * One live-stream client's outbox, bounded. Events are queued by reference (the text is shared by
 * every client) and written to the socket in pieces of at most `pieceBytes`, the next piece only after
 * the socket drained: a 5 000-event batch is never one multi-megabyte write, and a client's socket
 * buffer (the only per-client copy) stays within a piece or two. What waits for a client — queued
 * bytes plus its socket's buffer — never exceeds `maxBufferedBytes`: an event that would is the moment
 * the client is dropped, once (`onDrop`), and nothing is queued for it again. A client that reads keeps
 * up, however big a batch (below the bound); one that does not is dropped alone.
 */

/** What the writer needs of an http.ServerResponse (a fake in tests). */
export interface SseSink {
  /** false: the data was buffered past the high-water mark; wait for 'drain'. */
  write(chunk: string): boolean;
  readonly writableLength: number;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  destroy(): void;
}

/** A formatted SSE message and its UTF-8 length; shared, never copied, by every client it is queued for. */
export interface SseMessage {
  readonly text: string;
  readonly bytes: number;
}

export interface SseWriter {
  /**
   * Queues a message (a string is measured here). Returns false when the client is gone or was dropped,
   * which this call may have done: the message would have taken it past the bound.
   */
  send(message: SseMessage | string): boolean;
  /** A comment (`: heartbeat …`), queued only when nothing else waits: a waiting event says as much. */
  comment(text: string): void;
  /** Bytes waiting for this client: queued plus in its socket's buffer. */
  readonly bufferedBytes: number;
  readonly dropped: boolean;
  /** The client went away: stop writing and let go of the queue. */
  close(): void;
}

export interface SseWriterOptions {
  sink: SseSink;
  maxBufferedBytes: number;
  /** 64 KiB: big enough that a fast client gets a batch in few writes, small enough to be no copy worth counting. */
  pieceBytes?: number;
  /** Called once, when the client is dropped, with what was waiting for it. */
  onDrop(bufferedBytes: number): void;
  /** When to write what was queued: after the current burst of events (default setImmediate). */
  schedule?: (fn: () => void) => void;
}

export const DEFAULT_PIECE_BYTES = 64 * 1024;

export function createSseWriter(options: SseWriterOptions): SseWriter {
  const { sink, maxBufferedBytes } = options;
  const pieceBytes = options.pieceBytes ?? DEFAULT_PIECE_BYTES;
  const schedule = options.schedule ?? ((fn) => void setImmediate(fn));
  let queue: SseMessage[] = [];
  let head = 0;
  let queuedBytes = 0;
  let scheduled = false;
  let waitingForDrain = false;
  let dropped = false;
  let closed = false;

  const onDrain = () => {
    waitingForDrain = false;
    pump();
  };

  const letGo = () => {
    queue = [];
    head = 0;
    queuedBytes = 0;
    if (waitingForDrain) sink.removeListener('drain', onDrain);
    waitingForDrain = false;
  };

  const pump = () => {
    scheduled = false;
    if (dropped || closed || waitingForDrain) return;
    while (head < queue.length) {
      let piece = '';
      let pieceSize = 0;
      // At least one message per piece (a message larger than a piece goes alone).
      while (head < queue.length && (pieceSize === 0 || pieceSize + queue[head]!.bytes <= pieceBytes)) {
        const next = queue[head++]!;
        piece += next.text;
        pieceSize += next.bytes;
      }
      queuedBytes -= pieceSize;
      if (!sink.write(piece)) {
        waitingForDrain = true;
        sink.once('drain', onDrain);
        break;
      }
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const writer: SseWriter = {
    send(input) {
      if (dropped || closed) return false;
      const message = typeof input === 'string' ? { text: input, bytes: Buffer.byteLength(input) } : input;
      const waiting = queuedBytes + sink.writableLength;
      if (waiting + message.bytes > maxBufferedBytes) {
        dropped = true;
        letGo();
        options.onDrop(waiting);
        sink.destroy();
        return false;
      }
      queue.push(message);
      queuedBytes += message.bytes;
      if (!scheduled && !waitingForDrain) {
        scheduled = true;
        schedule(pump);
      }
      return true;
    },
    comment(text) {
      if (queuedBytes === 0 && !waitingForDrain) writer.send(`: ${text}\n\n`);
    },
    get bufferedBytes() {
      return dropped || closed ? 0 : queuedBytes + sink.writableLength;
    },
    get dropped() {
      return dropped;
    },
    close() {
      if (closed) return;
      closed = true;
      letGo();
    },
  };
  return writer;
}
