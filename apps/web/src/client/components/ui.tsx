/** Small presentational pieces shared by the pages. */
import type { ComponentChildren } from 'preact';
import type { CameraStatusState } from '@its/contracts';
import { onLinkClick } from '../lib/router.js';

export function Link(props: {
  href: string;
  class?: string;
  children: ComponentChildren;
  'aria-current'?: 'page' | undefined;
  'data-testid'?: string;
}) {
  const { href, children, ...rest } = props;
  return (
    <a href={href} onClick={(e) => onLinkClick(e, href)} {...rest}>
      {children}
    </a>
  );
}

const STATUS_LABEL: Record<CameraStatusState, string> = {
  online: 'Online',
  offline: 'Offline',
  starting: 'Starting',
  unknown: 'Unknown',
};

export function StatusBadge({ state, disabled }: { state: CameraStatusState; disabled?: boolean }) {
  if (disabled) {
    return (
      <span class="badge badge--disabled" data-testid="camera-status" data-state="disabled">
        <span class="badge__dot" aria-hidden="true" />
        Disabled
      </span>
    );
  }
  return (
    <span class={`badge badge--${state}`} data-testid="camera-status" data-state={state}>
      <span class="badge__dot" aria-hidden="true" />
      {STATUS_LABEL[state]}
    </span>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  id?: string;
  'data-testid'?: string;
}) {
  const headingId = props.id ? `${props.id}-title` : undefined;
  return (
    <section
      class={`card ${props.class ?? ''}`}
      aria-labelledby={headingId}
      data-testid={props['data-testid']}
    >
      {(props.title || props.actions) && (
        <header class="card__header">
          {props.title && (
            <h2 class="card__title" id={headingId}>
              {props.title}
            </h2>
          )}
          {props.actions && <div class="card__actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

export function Stat(props: {
  label: string;
  value: ComponentChildren;
  hint?: ComponentChildren;
  tone?: 'ok' | 'bad' | 'warn';
  'data-testid'?: string;
}) {
  return (
    <div class={`stat ${props.tone ? `stat--${props.tone}` : ''}`} data-testid={props['data-testid']}>
      <dt class="stat__label">{props.label}</dt>
      <dd class="stat__value">{props.value}</dd>
      {props.hint && <dd class="stat__hint">{props.hint}</dd>}
    </div>
  );
}

export function Skeleton({
  height = 16,
  width = '100%',
  count = 1,
}: {
  height?: number;
  width?: string;
  count?: number;
}) {
  return (
    <div class="skeleton-group" aria-hidden="true">
      {Array.from({ length: count }, (_, i) => (
        <div key={i} class="skeleton" style={{ height: `${height}px`, width }} />
      ))}
    </div>
  );
}

export function Loading({
  label,
  lines = 3,
  height = 16,
}: {
  label: string;
  lines?: number;
  height?: number;
}) {
  return (
    <div class="loading" role="status" aria-live="polite" data-testid="loading">
      <span class="visually-hidden">{label}</span>
      <Skeleton count={lines} height={height} />
    </div>
  );
}

export function EmptyState(props: {
  title: string;
  children?: ComponentChildren;
  icon?: 'camera' | 'chart' | 'pulse' | 'grid' | 'server';
  'data-testid'?: string;
}) {
  return (
    <div class="empty" data-testid={props['data-testid'] ?? 'empty-state'}>
      <Icon name={props.icon ?? 'chart'} class="empty__icon" />
      <p class="empty__title">{props.title}</p>
      {props.children && <div class="empty__body">{props.children}</div>}
    </div>
  );
}

export function ErrorState(props: { title: string; message: string; onRetry?: () => void }) {
  return (
    <div class="error-state" role="alert" data-testid="error-state">
      <Icon name="alert" class="error-state__icon" />
      <div>
        <p class="error-state__title">{props.title}</p>
        <p class="error-state__message">{props.message}</p>
        {props.onRetry && (
          <button type="button" class="button button--secondary" onClick={props.onRetry}>
            Try again
          </button>
        )}
      </div>
    </div>
  );
}

type IconName =
  | 'camera'
  | 'chart'
  | 'pulse'
  | 'alert'
  | 'server'
  | 'grid'
  | 'check'
  | 'x'
  | 'minus'
  | 'pin'
  | 'link'
  | 'refresh'
  | 'arrow-left';

const ICON_PATHS: Record<IconName, string> = {
  camera: 'M4 7h3l2-2h6l2 2h3v12H4z M12 10a3 3 0 1 0 0 6a3 3 0 1 0 0-6',
  chart: 'M4 20V4 M4 20h16 M8 16v-5 M12 16V8 M16 16v-3',
  pulse: 'M3 12h4l2-5 4 10 2-5h6',
  alert: 'M12 3l9 16H3z M12 10v4 M12 17v.01',
  server: 'M4 5h16v6H4z M4 13h16v6H4z M8 8h.01 M8 16h.01',
  grid: 'M4 4h7v7H4z M13 4h7v7h-7z M4 13h7v7H4z M13 13h7v7h-7z',
  check: 'M5 12l5 5 9-10',
  x: 'M6 6l12 12 M18 6L6 18',
  minus: 'M6 12h12',
  pin: 'M12 21s-6-5.5-6-11a6 6 0 1 1 12 0c0 5.5-6 11-6 11z M12 8a2 2 0 1 0 0 4a2 2 0 1 0 0-4',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  refresh: 'M20 11a8 8 0 1 0-2.3 5.7 M20 4v7h-7',
  'arrow-left': 'M19 12H5 M11 6l-6 6 6 6',
};

export function Icon({ name, class: cls }: { name: IconName; class?: string }) {
  return (
    <svg class={`icon ${cls ?? ''}`} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={ICON_PATHS[name]} />
    </svg>
  );
}

/** Colours per vehicle class, from CSS variables so the theme owns them. */
export const classColor = (cls: string): string => `var(--class-${cls}, var(--class-other))`;
