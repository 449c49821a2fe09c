import type { ReliabilityDiagram } from '../metrics/classification';
import type { Figure } from './plotly';
import { PALETTE } from './palette';

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
    margin: { t: 80 },
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
    layout[`yaxis${yCount}`] = {
      overlaying: ya(yAcc),
      side: 'right',
      anchor: xa,
      title: { text: 'Number of points' },
      rangemode: 'tozero',
      showgrid: false,
      titlefont: { color: PALETTE.red },
      tickfont: { color: PALETTE.red },
    };
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

/**
 * Overlaid histograms of scores in [0, 1] (e.g. credibility of correct vs wrong predictions, or
 * clean vs adversarial inputs), `bins` equal bins (default 20), as a percentage of each group.
 */
export function histogramFigure(
  groups: HistogramGroup[],
  options: { title?: string; xLabel?: string; bins?: number; height?: number } = {},
): Figure {
  const bins = options.bins ?? 20;
  return {
    data: groups.map((g) => ({
      type: 'histogram',
      name: `${g.name} (n = ${g.values.length})`,
      x: Array.from(g.values),
      opacity: 0.6,
      histnorm: 'percent',
      xbins: { start: 0, end: 1 + 1e-9, size: 1 / bins },
      marker: g.color ? { color: g.color } : undefined,
    })),
    layout: {
      title: { text: options.title ?? 'Histogram' },
      height: options.height ?? 380,
      barmode: 'overlay',
      xaxis: { title: { text: options.xLabel ?? 'score' }, range: [0, 1] },
      yaxis: { title: { text: '% of group' } },
    },
  };
}
