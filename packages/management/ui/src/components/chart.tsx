import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** One line of a chart. */
export interface Line {
  label: string;
  /** A CSS colour; the palette in styles.css keeps the same meaning on every page. */
  color: string;
}

interface Props {
  /** What the chart shows, for the heading and for screen readers. */
  title: string;
  lines: Line[];
  /** Times (seconds since the epoch) then one series per line, all the same length. */
  data: [number[], ...(number | null)[][]];
  /** "rate" (per second) or "count": how the axis and the summary read. */
  unit: "rate" | "count";
  height?: number;
  /** At most this many seconds are shown, ending at the newest point (at least a minute). */
  windowS?: number;
}

const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/**
 * A live time-series chart (uPlot: canvas, fast with thousands of points, 50 KB). The chart is
 * made once and fed new data on each poll; its width follows its container. For screen
 * readers it is an image whose label gives the latest value of each line.
 */
export function Chart({ title, lines, data, unit, height = 180, windowS = 600 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const el = box.current!;
    const suffix = unit === "rate" ? "/s" : "";
    const u = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // A window of at least a minute: a chart with its first few points reads as "just
          // started", not as a zoom into a few seconds.
          x: {
            time: true,
            range: (_u, min, max) => {
              const end = max ?? Date.now() / 1000;
              // At least a minute, growing with the data up to the full window.
              const span = Math.min(windowS, Math.max(60, end - (min ?? end)));
              return [end - span, end];
            },
          },
          y: { range: (_u, min, max) => [Math.min(0, min), Math.max(max * 1.1, 1)] },
        },
        axes: [
          { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.15)" } },
          {
            stroke: "currentColor",
            grid: { stroke: "rgba(128,128,128,0.15)" },
            size: 60,
            values: (_u, ticks) => ticks.map((t) => fmt.format(t) + suffix),
          },
        ],
        series: [
          {},
          ...lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 2,
            fill: `${l.color}1a`,
            value: (_u: uPlot, v: number | null) => (v === null ? "–" : fmt.format(v) + suffix),
          })),
        ],
      },
      data as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = undefined;
    };
    // The chart is rebuilt only when its lines change; data goes through setData below.
  }, [lines.map((l) => l.label).join(), unit, height, windowS]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  const latest = lines
    .map((l, i) => {
      const s = data[i + 1]!;
      const v = s[s.length - 1];
      return `${l.label} ${v === undefined || v === null ? "no data" : fmt.format(v) + (unit === "rate" ? " per second" : "")}`;
    })
    .join(", ");
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${latest}`} />
    </figure>
  );
}
