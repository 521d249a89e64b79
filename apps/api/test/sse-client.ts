/** A minimal Server-Sent Events client over fetch, for tests: collects events and comments. */
export interface SseMessage {
  event: string;
  data: string;
  /** The `id:` field, when the server sent one. */
  id?: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  messages: SseMessage[];
  comments: string[];
  /** Resolves when a message satisfies `pred` (already received or future). */
  waitFor(pred: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  waitForComment(pred: (c: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when at least `n` messages have arrived. */
  waitForCount(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let idx: number;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('id: ')) id = line.slice(4);
          }
          if (data.length > 0)
            messages.push({ event, data: data.join('\n'), ...(id === undefined ? {} : { id }) });
          notify();
        }
      }
    } catch {
      // aborted by close()
    }
    notify();
  })();
  let done = false;
  void ended.then(() => {
    done = true;
  });
  const wait = <T>(find: () => T | undefined, what: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        const hit = find();
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else if (done) {
          clearTimeout(timer);
          reject(new Error(`stream ended before ${what}`));
        } else waiters.push(check);
      };
      check();
    });
  return {
    status: res.status,
    headers: res.headers,
    messages,
    comments,
    waitFor: (pred, timeoutMs = 10_000) => wait(() => messages.find(pred), 'an SSE message', timeoutMs),
    waitForComment: (pred, timeoutMs = 10_000) =>
      wait(() => comments.find(pred), 'an SSE comment', timeoutMs),
    waitForCount: async (n, timeoutMs = 10_000) => {
      await wait(() => (messages.length >= n ? true : undefined), `${n} SSE messages`, timeoutMs);
    },
    ended,
    close: () => ac.abort(),
  };
}
