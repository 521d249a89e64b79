/** The application shell: navigation landmark, main region and the page for the current route. */
import { useEffect, useRef } from 'preact/hooks';
import { useLiveState } from './lib/hooks.js';
import { matchRoute, useLocation } from './lib/router.js';
import { parseRangeId } from './lib/ranges.js';
import { Icon, Link, EmptyState } from './components/ui.js';
import { CameraPage, LiveIndicator } from './pages/camera-page.js';
import { OverviewPage } from './pages/overview-page.js';
import { SystemPage } from './pages/system-page.js';

export function App({ version }: { version: string }) {
  const loc = useLocation();
  const route = matchRoute(loc.pathname);
  const liveState = useLiveState();
  const main = useRef<HTMLElement>(null);
  // Move focus to the new page on navigation so screen readers announce it (not on first load).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: true });
  }, [loc.pathname]);

  const section = route.name === 'system' ? 'system' : 'cameras';
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="sidebar">
        <Link href="/" class="brand">
          <span class="brand__mark" aria-hidden="true">
            <Icon name="camera" />
          </span>
          <span class="brand__text">
            <span class="brand__name">ITS Camera AI</span>
            <span class="brand__tag">Traffic operations</span>
          </span>
        </Link>
        <nav class="nav" aria-label="Primary">
          <Link
            href="/"
            class="nav__link"
            aria-current={section === 'cameras' ? 'page' : undefined}
            data-testid="nav-cameras"
          >
            <Icon name="camera" />
            <span>Cameras</span>
          </Link>
          <Link
            href="/system"
            class="nav__link"
            aria-current={section === 'system' ? 'page' : undefined}
            data-testid="nav-system"
          >
            <Icon name="server" />
            <span>System</span>
          </Link>
        </nav>
        <div class="sidebar__footer">
          <LiveIndicator state={liveState} />
          <span class="sidebar__version">{/^\d/.test(version) ? `v${version}` : version}</span>
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1} ref={main}>
        {route.name === 'overview' && <OverviewPage />}
        {route.name === 'camera' && (
          <CameraPage key={route.id} id={route.id} range={parseRangeId(loc.search.get('range'))} />
        )}
        {route.name === 'system' && <SystemPage />}
        {route.name === 'not-found' && (
          <div class="page">
            <EmptyState title="Page not found" icon="grid" data-testid="not-found">
              <p>
                Nothing lives at <code>{route.path}</code>. <Link href="/">Go to cameras</Link>
              </p>
            </EmptyState>
          </div>
        )}
      </main>
    </div>
  );
}
