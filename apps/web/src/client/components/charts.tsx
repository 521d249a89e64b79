/**
 * Hand-rolled SVG time charts: stacked volume bars and speed lines. Drawn at the container's real
 * pixel width (no viewBox stretching), so text stays crisp from a phone to a wide monitor.
 */
import { useState } from 'preact/hooks';
import {
  formatAxisTime,
  formatCount,
  formatDateTime,
  planAxis,
  planTimeTicks,
  titleCase,
} from '../lib/format.js';
import { useElementWidth } from '../lib/hooks.js';
import { classColor } from './ui.js';

const M = { top: 12, right: 12, bottom: 28, left: 44 };
type Frame = { width: number; height: number; plotW: number; plotH: number; band: number; n: number };

function frameFor(width: number, height: number, n: number): Frame {
  const plotW = Math.max(10, width - M.left - M.right);
  const plotH = Math.max(10, height - M.top - M.bottom);
  return { width, height, plotW, plotH, band: plotW / Math.max(1, n), n };
}

function Axes(props: {
  frame: Frame;
  starts: number[];
  bucketMs: number;
  yTicks: number[];
  yMax: number;
  yFormat: (v: number) => string;
}) {
  const { frame, starts, bucketMs, yTicks, yMax, yFormat } = props;
  const xTicks = planTimeTicks(starts, bucketMs, Math.max(2, Math.floor(frame.plotW / 64)));
  return (
    <g class="chart__axes">
      {yTicks.map((v) => {
        const y = M.top + frame.plotH - (v / yMax) * frame.plotH;
        return (
          <g key={v}>
            <line class="chart__grid" x1={M.left} x2={M.left + frame.plotW} y1={y} y2={y} />
            <text class="chart__tick" x={M.left - 8} y={y} text-anchor="end" dominant-baseline="middle">
              {yFormat(v)}
            </text>
          </g>
        );
      })}
      {xTicks.map((t) => {
        const i = starts.indexOf(t);
        const x = M.left + i * frame.band;
        return (
          <g key={t}>
            <line class="chart__xtick" x1={x} x2={x} y1={M.top + frame.plotH} y2={M.top + frame.plotH + 4} />
            <text class="chart__tick" x={x} y={M.top + frame.plotH + 18} text-anchor="middle">
              {formatAxisTime(t, bucketMs)}
            </text>
          </g>
        );
      })}
      <line
        class="chart__baseline"
        x1={M.left}
        x2={M.left + frame.plotW}
        y1={M.top + frame.plotH}
        y2={M.top + frame.plotH}
      />
    </g>
  );
}

type Hover = { index: number; x: number } | null;

function useHover(frame: Frame) {
  const [hover, setHover] = useState<Hover>(null);
  const onMove = (e: PointerEvent) => {
    const rect = (e.currentTarget as SVGRectElement).getBoundingClientRect();
    const x = e.clientX - rect.left;
    const index = Math.min(frame.n - 1, Math.max(0, Math.floor(x / frame.band)));
    setHover({ index, x: M.left + (index + 0.5) * frame.band });
  };
  return { hover, onMove, onLeave: () => setHover(null) };
}

function Tooltip(props: {
  hover: Hover;
  frame: Frame;
  title: string;
  rows: { label: string; value: string; color: string }[];
}) {
  const { hover, frame } = props;
  if (!hover) return null;
  // Beside the cursor, on the side with more room, so the hovered bar stays visible.
  const onRight = hover.x < frame.width / 2;
  const style = onRight ? { left: `${hover.x + 12}px` } : { right: `${frame.width - hover.x + 12}px` };
  return (
    <div class="chart__tooltip" style={style} aria-hidden="true">
      <div class="chart__tooltip-title">{props.title}</div>
      {props.rows.map((r) => (
        <div class="chart__tooltip-row" key={r.label}>
          <span class="swatch" style={{ background: r.color }} />
          <span>{r.label}</span>
          <span class="chart__tooltip-value">{r.value}</span>
        </div>
      ))}
    </div>
  );
}

export type StackedRow = { start: number; values: Record<string, number> };

export function VolumeChart(props: {
  rows: StackedRow[];
  keys: string[];
  bucketMs: number;
  height?: number;
  label: string;
}) {
  const [ref, width] = useElementWidth<HTMLElement>();
  const height = props.height ?? 240;
  const { rows, keys, bucketMs } = props;
  const frame = frameFor(width, height, rows.length);
  const totals = rows.map((r) => keys.reduce((s, k) => s + (r.values[k] ?? 0), 0));
  const axis = planAxis(Math.max(0, ...totals));
  const { hover, onMove, onLeave } = useHover(frame);
  const barW = Math.max(1, Math.min(frame.band * 0.72, 28));
  const starts = rows.map((r) => r.start);
  const hovered = hover ? rows[hover.index] : undefined;
  return (
    <figure class="chart" ref={ref} role="img" aria-label={props.label} data-testid="volume-chart">
      {width > 0 && (
        <svg width={width} height={height} class="chart__svg">
          <Axes
            frame={frame}
            starts={starts}
            bucketMs={bucketMs}
            yTicks={axis.ticks}
            yMax={axis.max}
            yFormat={(v) => formatCount(v)}
          />
          <g class="chart__bars">
            {rows.map((r, i) => {
              let acc = 0;
              const x = M.left + i * frame.band + (frame.band - barW) / 2;
              return (
                <g key={r.start} class={hover?.index === i ? 'is-hovered' : undefined}>
                  {keys.map((k) => {
                    const v = r.values[k] ?? 0;
                    if (v <= 0) return null;
                    const h = (v / axis.max) * frame.plotH;
                    const y = M.top + frame.plotH - ((acc + v) / axis.max) * frame.plotH;
                    acc += v;
                    return (
                      <rect
                        key={k}
                        x={x}
                        y={y}
                        width={barW}
                        height={Math.max(0.5, h)}
                        fill={classColor(k)}
                        rx={barW > 6 ? 1.5 : 0}
                      />
                    );
                  })}
                </g>
              );
            })}
          </g>
          {hover && (
            <line class="chart__cursor" x1={hover.x} x2={hover.x} y1={M.top} y2={M.top + frame.plotH} />
          )}
          <rect
            class="chart__hit"
            x={M.left}
            y={M.top}
            width={frame.plotW}
            height={frame.plotH}
            onPointerMove={onMove}
            onPointerLeave={onLeave}
          />
        </svg>
      )}
      {hovered && (
        <Tooltip
          hover={hover}
          frame={frame}
          title={formatDateTime(hovered.start)}
          rows={[
            ...keys
              .filter((k) => (hovered.values[k] ?? 0) > 0)
              .map((k) => ({
                label: titleCase(k),
                value: formatCount(hovered.values[k] ?? 0),
                color: classColor(k),
              })),
            { label: 'Total', value: formatCount(totals[hover!.index] ?? 0), color: 'transparent' },
          ]}
        />
      )}
    </figure>
  );
}

export type LineSeries = {
  key: string;
  label: string;
  color: string;
  dashed?: boolean;
  values: (number | null)[];
};

function linePath(values: (number | null)[], frame: Frame, yMax: number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    const x = M.left + (i + 0.5) * frame.band;
    const y = M.top + frame.plotH - (v / yMax) * frame.plotH;
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  return d;
}

export function LineChart(props: {
  starts: number[];
  series: LineSeries[];
  bucketMs: number;
  height?: number;
  label: string;
  unit: string;
}) {
  const [ref, width] = useElementWidth<HTMLElement>();
  const height = props.height ?? 240;
  const { starts, series, bucketMs } = props;
  const frame = frameFor(width, height, starts.length);
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const axis = planAxis(Math.max(0, ...all));
  const { hover, onMove, onLeave } = useHover(frame);
  return (
    <figure class="chart" ref={ref} role="img" aria-label={props.label} data-testid="speed-chart">
      {width > 0 && (
        <svg width={width} height={height} class="chart__svg">
          <Axes
            frame={frame}
            starts={starts}
            bucketMs={bucketMs}
            yTicks={axis.ticks}
            yMax={axis.max}
            yFormat={(v) => String(v)}
          />
          {series.map((s) => (
            <g key={s.key}>
              <path
                class={`chart__line ${s.dashed ? 'chart__line--dashed' : ''}`}
                d={linePath(s.values, frame, axis.max)}
                stroke={s.color}
              />
              {/* Isolated points (a lone bucket between gaps) would not show as a line: draw them as dots. */}
              {s.values.map((v, i) =>
                v !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null ? (
                  <circle
                    key={i}
                    cx={M.left + (i + 0.5) * frame.band}
                    cy={M.top + frame.plotH - (v / axis.max) * frame.plotH}
                    r={2.5}
                    fill={s.color}
                  />
                ) : null,
              )}
            </g>
          ))}
          {hover && (
            <line class="chart__cursor" x1={hover.x} x2={hover.x} y1={M.top} y2={M.top + frame.plotH} />
          )}
          {hover &&
            series.map((s) => {
              const v = s.values[hover.index];
              return v === null || v === undefined ? null : (
                <circle
                  key={s.key}
                  class="chart__marker"
                  cx={hover.x}
                  cy={M.top + frame.plotH - (v / axis.max) * frame.plotH}
                  r={4}
                  stroke={s.color}
                />
              );
            })}
          <rect
            class="chart__hit"
            x={M.left}
            y={M.top}
            width={frame.plotW}
            height={frame.plotH}
            onPointerMove={onMove}
            onPointerLeave={onLeave}
          />
        </svg>
      )}
      {hover && starts[hover.index] !== undefined && (
        <Tooltip
          hover={hover}
          frame={frame}
          title={formatDateTime(starts[hover.index]!)}
          rows={series.map((s) => {
            const v = s.values[hover.index];
            return {
              label: s.label,
              value: v === null || v === undefined ? '—' : `${v.toFixed(1)} ${props.unit}`,
              color: s.color,
            };
          })}
        />
      )}
    </figure>
  );
}

export function Sparkline({
  values,
  width = 120,
  height = 32,
  label,
}: {
  values: number[];
  width?: number;
  height?: number;
  label: string;
}) {
  const max = Math.max(1, ...values);
  const n = values.length;
  const step = n > 1 ? width / (n - 1) : width;
  const pts = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`,
  );
  return (
    <svg
      class="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={label}
    >
      {n > 1 && (
        <>
          <polygon class="sparkline__area" points={`0,${height} ${pts.join(' ')} ${width},${height}`} />
          <polyline class="sparkline__line" points={pts.join(' ')} />
        </>
      )}
    </svg>
  );
}

export function Legend({
  items,
}: {
  items: { key: string; label: string; color: string; dashed?: boolean }[];
}) {
  return (
    <ul class="legend" aria-label="Legend">
      {items.map((i) => (
        <li key={i.key} class="legend__item">
          <span
            class={`swatch ${i.dashed ? 'swatch--dashed' : ''}`}
            style={{ background: i.dashed ? 'transparent' : i.color, borderColor: i.color }}
          />
          {i.label}
        </li>
      ))}
    </ul>
  );
}
