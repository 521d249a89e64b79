/** A small history-API router: three routes do not need a library. */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'overview' }
  | { name: 'camera'; id: string }
  | { name: 'system' }
  | { name: 'not-found'; path: string };

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/cameras') return { name: 'overview' };
  if (path === '/system') return { name: 'system' };
  const m = /^\/cameras\/([^/]+)$/.exec(path);
  if (m?.[1]) return { name: 'camera', id: decodeURIComponent(m[1]) };
  return { name: 'not-found', path };
}

const listeners = new Set<() => void>();
const notify = () => {
  for (const fn of listeners) fn();
};
if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

export function navigate(href: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  notify();
  if (!opts.replace) window.scrollTo(0, 0);
}

export type Location = { pathname: string; search: URLSearchParams };

export function useLocation(): Location {
  const read = () => ({ pathname: location.pathname, search: new URLSearchParams(location.search) });
  const [loc, setLoc] = useState<Location>(read);
  useEffect(() => {
    const fn = () => setLoc(read());
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return loc;
}

/** Click handler for in-app links: lets modified clicks (new tab, etc.) through to the browser. */
export function onLinkClick(e: MouseEvent, href: string): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(href);
}
