// A time-series line chart drawn by uPlot (loaded on first use, ~20 kB gzipped). The chart keeps a fixed
// height, so the page does not move when it appears; a table of the latest values is its text alternative.
import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';

export interface LineSeries {
  label: string;
  values: (number | null)[];
}

const COLOURS = ['#5436c9', '#d9480f', '#2b8a3e', '#1971c2', '#c2255c', '#5c940d'];

export function LineChart({
  times,
  series,
  yLabel,
  height = 240,
  title,
}: {
  /** Seconds since the epoch. */
  times: number[];
  series: LineSeries[];
  yLabel: string;
  height?: number;
  title: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);
  const shape = series.map((s) => s.label).join('\u0000');
  const empty = times.length < 2;

  // (Re)create the chart when the set of series changes; plain data updates go through setData below.
  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | undefined;
    if (empty) return;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      const node = box.current;
      if (cancelled || !node) return;
      const text = getComputedStyle(node).color;
      const grid = getComputedStyle(node).getPropertyValue('--border').trim() || '#ddd';
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
      chart.current = new UPlot(
        {
          width: node.clientWidth || 600,
          height,
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: COLOURS[i % COLOURS.length],
              width: 2,
              spanGaps: false,
            })),
          ],
          axes: [axis, { ...axis, label: yLabel, size: 56 }],
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
          legend: { show: true },
          cursor: { drag: { x: false, y: false } },
        },
        [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
        node,
      );
      observer = new ResizeObserver(() => chart.current?.setSize({ width: node.clientWidth, height }));
      observer.observe(node);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart.current?.destroy();
      chart.current = undefined;
    };
    // The chart is rebuilt only when its series change; data flows in through the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height, yLabel, empty]);

  useEffect(() => {
    chart.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  return (
    <figure className="chart-figure">
      {empty ? (
        <p className="chart-empty muted small" style={{ height }}>
          The chart fills in as new figures arrive.
        </p>
      ) : null}
      {empty ? null : <div ref={box} className="chart" role="img" aria-label={title} />}
      <figcaption className="small muted">{title}</figcaption>
    </figure>
  );
}
