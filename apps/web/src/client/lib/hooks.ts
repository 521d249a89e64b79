import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { LiveEvent } from '@its/contracts';
import type { ApiClient } from './api-client.js';
import type { ClientConfig } from './client-config.js';
import type { LiveHub, LiveState } from './live-hub.js';

export type AppServices = { api: ApiClient; live: LiveHub; config: ClientConfig };
export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside <ServicesContext.Provider>');
  return s;
}

export type AsyncState<T> =
  | { status: 'loading'; data: T | null; error: null }
  | { status: 'ready'; data: T; error: null }
  | { status: 'error'; data: T | null; error: unknown };

/**
 * Runs `load` when `deps` change and on `reload()`. A reload keeps showing the previous data (no flash
 * of skeletons on a periodic refresh); a stale response never overwrites a newer one.
 */
export function useAsync<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
): AsyncState<T> & { reload: () => void } {
  const [state, setState] = useState<AsyncState<T>>({ status: 'loading', data: null, error: null });
  const [nonce, setNonce] = useState(0);
  const depsKey = JSON.stringify(deps);
  const lastDeps = useRef(depsKey);
  useEffect(() => {
    const ctrl = new AbortController();
    const depsChanged = lastDeps.current !== depsKey;
    lastDeps.current = depsKey;
    if (depsChanged) setState({ status: 'loading', data: null, error: null });
    load(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ status: 'ready', data, error: null });
      },
      (error: unknown) => {
        if (!ctrl.signal.aborted) setState((prev) => ({ status: 'error', data: prev.data, error }));
      },
    );
    return () => ctrl.abort();
  }, [depsKey, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}

/** The current time, refreshed every `everyMs` so relative times ("3 min ago") stay true. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

/** Calls `fn` every `everyMs` while the tab is visible. */
export function useInterval(fn: () => void, everyMs: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const id = setInterval(() => {
      if (document.visibilityState !== 'hidden') ref.current();
    }, everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
}

export function useLiveEvents(fn: (ev: LiveEvent) => void): void {
  const { live } = useServices();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.subscribe((ev) => ref.current(ev)), [live]);
}

export function useLiveState(): LiveState {
  const { live } = useServices();
  const [state, setState] = useState<LiveState>(live.state);
  useEffect(() => {
    setState(live.state);
    return live.onState(setState);
  }, [live]);
  return state;
}

/** Width of an element in CSS pixels, so SVG charts draw at their real size (crisp text, no stretching). */
export function useElementWidth<E extends Element>(): [(el: E | null) => void, number] {
  const [width, setWidth] = useState(0);
  const observer = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: E | null) => {
    observer.current?.disconnect();
    if (!el) return;
    setWidth(el.getBoundingClientRect().width);
    observer.current = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w !== undefined) setWidth(w);
    });
    observer.current.observe(el);
  }, []);
  return [ref, width];
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · ITS Camera AI` : 'ITS Camera AI';
  }, [title]);
}
