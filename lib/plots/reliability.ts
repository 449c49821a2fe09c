import type { ReliabilityDiagram } from '../metrics/classification';
import type { Figure } from './plotly';
import { PALETTE, seriesColor } from './palette';
import { countAxis, rightAxis } from './layout';

/** One panel of {@link reliabilityFigure}. */
export interface ReliabilityPanel {
  /** Panel title, e.g. "DNN softmax". */
  title: string;
  /** The binned scores, from `reliabilityBins()`. */
  diagram: ReliabilityDiagram;
  /** x-axis label: "Prediction Confidence" (DNN) or "Prediction Credibility" (DkNN), as the paper. */
  xLabel: string;
}

/**
 * Reliability diagrams side by side, drawn as the reference does: for each panel, bars = accuracy
 * of the points in each score bin (empty bins drawn at 0, as the reference), and a line on a
 * second y-axis = number of points per bin. The ECE of each panel is in its title.
 */
export function reliabilityFigure(
  panels: ReliabilityPanel[],
  options: { title?: string; height?: number } = {},
): Figure {
  const gap = 0.2;
  const width = (1 - gap * (panels.length - 1)) / panels.length;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: options.title ?? 'Reliability diagrams' },
    height: options.height ?? 420,
    showlegend: false,
    bargap: 0.05,
    annotations: [] as unknown[],
    margin: { t: 100 },
  };
  panels.forEach((p, i) => {
    const xa = i === 0 ? 'x' : `x${i + 1}`;
    const yAcc = 2 * i + 1;
    const yCount = 2 * i + 2;
    const ya = (n: number) => (n === 1 ? 'y' : `y${n}`);
    const bins = p.diagram.bins;
    const centers = bins.map((b) => (b.lo + b.hi) / 2);
    data.push({
      type: 'bar',
      x: centers,
      y: bins.map((b) => b.accuracy ?? 0),
      width: bins.map((b) => (b.hi - b.lo) * 0.95),
      xaxis: xa,
      yaxis: ya(yAcc),
      name: `${p.title}: accuracy`,
      marker: { color: PALETTE.blue },
      customdata: bins.map((b) => [b.lo, b.hi, b.count]),
      hovertemplate:
        '[%{customdata[0]:.1f}, %{customdata[1]:.1f}): accuracy %{y:.3f}, %{customdata[2]} points<extra></extra>',
    });
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      x: centers,
      y: bins.map((b) => b.count),
      xaxis: xa,
      yaxis: ya(yCount),
      name: `${p.title}: points`,
      line: { color: PALETTE.red },
    });
    const domain = [i * (width + gap), i * (width + gap) + width];
    layout[i === 0 ? 'xaxis' : `xaxis${i + 1}`] = {
      domain,
      range: [0, 1],
      title: { text: p.xLabel },
      anchor: ya(yAcc),
      dtick: 0.1,
    };
    layout[yAcc === 1 ? 'yaxis' : `yaxis${yAcc}`] = { range: [0, 1], title: { text: 'Accuracy' }, anchor: xa };
    layout[`yaxis${yCount}`] = rightAxis(ya(yAcc), {
      ...countAxis(bins.map((b) => b.count)),
      anchor: xa,
      title: { text: 'Number of points', font: { color: PALETTE.red } },
      showgrid: false,
      tickfont: { color: PALETTE.red },
    });
    (layout.annotations as unknown[]).push({
      text: `<b>${p.title}</b><br>n = ${p.diagram.n}, ECE = ${p.diagram.expectedCalibrationError.toFixed(3)}`,
      x: (domain[0] + domain[1]) / 2,
      y: 1.02,
      xref: 'paper',
      yref: 'paper',
      xanchor: 'center',
      yanchor: 'bottom',
      showarrow: false,
    });
  });
  return { data, layout };
}

/** One group of values of {@link histogramFigure}. */
export interface HistogramGroup {
  name: string;
  values: ArrayLike<number>;
  color?: string;
}

/** Options of {@link histogramFigure}. */
export interface HistogramOptions {
  title?: string;
  xLabel?: string;
  /** Equal bins over [0, 1]. Default 20. */
  bins?: number;
  /** Figure height in pixels. Default 380 overlaid, 90 + 150 per panel in panels. */
  height?: number;
  /**
   * One panel per group, stacked, sharing the x and y axes (small multiples), instead of the
   * groups overlaid in one plot. Default: panels when there are more than two groups.
   */
  panels?: boolean;
}

/**
 * The percentage of a group in each of `bins` equal bins of [0, 1]; the last bin is closed, so a
 * score of exactly 1 (a credibility of 1 is common) counts in it. Values outside [0, 1] count in
 * the total but in no bin.
 */
export function binPercents(values: ArrayLike<number>, bins: number): Float64Array {
  const out = new Float64Array(bins);
  if (values.length === 0) return out;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= 0 && v <= 1) out[Math.min(bins - 1, Math.floor(v * bins))]++;
  }
  return out.map((c) => (100 * c) / values.length);
}

/** The histogram of one group as bars: `percents` per bin (see {@link binPercents}). */
function histogramTrace(g: HistogramGroup, percents: Float64Array, i: number): Record<string, unknown> {
  const bins = percents.length;
  return {
    type: 'bar',
    name: `${g.name} (n = ${g.values.length})`,
    x: Array.from({ length: bins }, (_, b) => (b + 0.5) / bins),
    y: Array.from(percents),
    width: 1 / bins,
    hovertemplate: `%{x:.3f} ± ${(0.5 / bins).toFixed(3)}: %{y:.1f}%<extra>${g.name}</extra>`,
    marker: { color: g.color ?? seriesColor(i) },
  };
}

/**
 * Histograms of scores in [0, 1] (e.g. credibility of correct vs wrong predictions, or clean vs
 * adversarial inputs), `bins` equal bins, as a percentage of each group: two groups overlaid in
 * one plot, more as small multiples (one panel per group, shared axes; see {@link HistogramOptions}).
 */
export function histogramFigure(groups: HistogramGroup[], options: HistogramOptions = {}): Figure {
  const bins = options.bins ?? 20;
  const title = { text: options.title ?? 'Histogram' };
  const xLabel = options.xLabel ?? 'score';
  const percents = groups.map((g) => binPercents(g.values, bins));
  if (!(options.panels ?? groups.length > 2))
    return {
      data: groups.map((g, i) => ({ ...histogramTrace(g, percents[i], i), opacity: 0.6 })),
      layout: {
        title,
        height: options.height ?? 380,
        barmode: 'overlay',
        xaxis: { title: { text: xLabel }, range: [0, 1] },
        yaxis: { title: { text: '% of group' } },
      },
    };
  const n = groups.length;
  const height = options.height ?? 90 + 150 * n;
  const margin = { t: 60, b: 50 };
  const gap = Math.min(0.2, 30 / Math.max(1, height - margin.t - margin.b));
  const h = (1 - gap * (n - 1)) / Math.max(1, n);
  const yMax = 1.08 * Math.max(1, ...percents.map((p) => Math.max(...p)));
  const layout: Record<string, unknown> = { title, height, margin, showlegend: false, bargap: 0.02, annotations: [] };
  groups.forEach((g, i) => {
    const top = 1 - i * (h + gap);
    const suffix = i === 0 ? '' : String(i + 1);
    layout[`xaxis${suffix}`] = {
      range: [0, 1],
      anchor: `y${suffix}`,
      ...(i > 0 ? { matches: 'x' } : {}),
      showticklabels: i === n - 1,
      ...(i === n - 1 ? { title: { text: xLabel } } : {}),
    };
    layout[`yaxis${suffix}`] = {
      domain: [Math.max(0, top - h), top],
      anchor: `x${suffix}`,
      range: [0, yMax],
      title: { text: '% of group' },
    };
    (layout.annotations as unknown[]).push({
      text: `<b>${g.name}</b> (n = ${g.values.length})`,
      x: 0,
      y: top,
      xref: 'paper',
      yref: 'paper',
      xanchor: 'left',
      yanchor: 'bottom',
      showarrow: false,
      font: { color: g.color ?? seriesColor(i) },
    });
  });
  return {
    data: groups.map((g, i) => ({
      ...histogramTrace(g, percents[i], i),
      xaxis: `x${i === 0 ? '' : i + 1}`,
      yaxis: `y${i === 0 ? '' : i + 1}`,
    })),
    layout,
  };
}
