/**
 * One Server-Sent Events connection to the API for the whole page, shared by every view. EventSource
 * reconnects by itself; we only surface its state so operators can tell "quiet" from "disconnected".
 */
import { LiveEvent } from '@its/contracts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'unsupported';
export type LiveListener = (ev: LiveEvent) => void;

const EVENT_TYPES = ['crossing', 'aggregate', 'camera-status'] as const;

/** Accepts both `data: <LiveEvent>` and `data: <payload>` framings of an SSE message named `type`. */
export function parseLiveMessage(eventName: string, raw: string): LiveEvent | null {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return null;
  }
  const framed =
    body && typeof body === 'object' && 'type' in body && 'data' in body
      ? body
      : { type: eventName, data: body };
  const parsed = LiveEvent.safeParse(framed);
  return parsed.success ? parsed.data : null;
}

export type LiveHub = {
  subscribe(fn: LiveListener): () => void;
  onState(fn: (s: LiveState) => void): () => void;
  readonly state: LiveState;
  close(): void;
};

export function createLiveHub(url: string): LiveHub {
  const listeners = new Set<LiveListener>();
  const stateListeners = new Set<(s: LiveState) => void>();
  let state: LiveState = typeof EventSource === 'undefined' ? 'unsupported' : 'connecting';
  const setState = (s: LiveState) => {
    if (s === state) return;
    state = s;
    for (const fn of stateListeners) fn(s);
  };
  let source: EventSource | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;
  let closed = false;

  const dispatch = (name: string) => (msg: MessageEvent<string>) => {
    const ev = parseLiveMessage(name, msg.data);
    if (!ev) return;
    for (const fn of listeners) fn(ev);
  };

  const connect = () => {
    if (closed) return;
    const es = new EventSource(url);
    source = es;
    es.onopen = () => {
      failures = 0;
      setState('live');
    };
    es.onerror = () => {
      setState('reconnecting');
      // EventSource retries transient drops itself, but gives up for good on an HTTP error or a wrong
      // content type (e.g. the API restarting behind a proxy); then we retry with a capped backoff.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        failures += 1;
        retryTimer = setTimeout(connect, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
      }
    };
    for (const t of EVENT_TYPES) es.addEventListener(t, dispatch(t) as EventListener);
    es.onmessage = dispatch('message');
  };
  if (state !== 'unsupported') connect();

  return {
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onState(fn) {
      stateListeners.add(fn);
      return () => stateListeners.delete(fn);
    },
    get state() {
      return state;
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      source?.close();
    },
  };
}
