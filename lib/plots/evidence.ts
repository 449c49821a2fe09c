/** Figures of what the neighbors say per layer (`analysis/evidence.ts`). */
import { evidenceByLayer, type LayerEvidence } from '../analysis/evidence';
import { PALETTE, seriesColor } from './palette';
import type { Figure } from './plotly';

/** Mean candidate labels and mean agreement with the DNN per layer, for several input sets (e.g. clean, FGSM, BIM). */
export function candidateLabelsFigure(
  sets: { name: string; evidence: LayerEvidence[] }[],
  options: { title?: string } = {},
): Figure {
  const data = sets.map((s, i) => {
    const means = evidenceByLayer(s.evidence);
    const agree = means.map((m) => m.agreeWithDnn);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: s.name,
      x: means.map((m) => m.layer),
      y: means.map((m) => m.candidates),
      marker: { size: means.map((m) => 8 + 30 * (m.agreeWithDnn / m.k)), color: seriesColor(i), opacity: 0.8 },
      line: { color: seriesColor(i) },
      customdata: agree,
      hovertemplate:
        '%{x}: %{y:.2f} candidate labels, %{customdata:.1f} neighbors agree with the DNN<extra>' + s.name + '</extra>',
    };
  });
  const k = sets[0]?.evidence[0]?.k ?? 0;
  return {
    data,
    layout: {
      title: {
        text:
          options.title ??
          `Candidate labels among the ${k} neighbors, per layer (marker size: neighbors agreeing with the DNN)`,
      },
      height: 420,
      xaxis: { title: { text: 'layer' } },
      yaxis: { title: { text: 'mean number of distinct labels' }, rangemode: 'tozero' },
    },
  };
}

/** For one input: each layer's neighbor labels as points (area = neighbors with that label), the DNN's label highlighted. */
export function neighborLabelsFigure(
  evidence: LayerEvidence[],
  options: { row: number; dnnPrediction: number; classNames?: readonly string[]; title?: string },
): Figure {
  const { row, dnnPrediction } = options;
  const C = evidence[0]?.numClasses ?? 0;
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const pts: { layer: string; label: string; count: number; agree: boolean }[] = [];
  for (const e of evidence)
    for (let c = 0; c < C; c++)
      if (e.counts[row * C + c] > 0)
        pts.push({ layer: e.layer, label: name(c), count: e.counts[row * C + c], agree: c === dnnPrediction });
  const trace = (agree: boolean) => {
    const p = pts.filter((x) => x.agree === agree);
    return {
      type: 'scatter',
      mode: 'markers',
      name: agree ? `the DNN's label (${name(dnnPrediction)})` : 'other labels',
      x: p.map((v) => v.layer),
      y: p.map((v) => v.label),
      text: p.map((v) => `${v.count} neighbors`),
      marker: {
        size: p.map((v) => 6 + 40 * Math.sqrt(v.count / (evidence[0]?.k || 1))),
        color: agree ? PALETTE.green : PALETTE.red,
        opacity: 0.75,
      },
    };
  };
  return {
    data: [trace(true), trace(false)],
    layout: {
      title: { text: options.title ?? `Neighbor labels per layer (marker area: neighbors with the label)` },
      height: 380,
      xaxis: { title: { text: 'layer' } },
      yaxis: {
        title: { text: 'label' },
        type: 'category',
        categoryorder: 'array',
        categoryarray: Array.from({ length: C }, (_, c) => name(c)),
      },
    },
  };
}
