/**
 * The detector comparison of `analysis/ood-benchmark.ts` shown: a table per metric (detectors ×
 * shifted sets, the best per column in bold, the focus detector's rank under each column), AUROC
 * against the rotation angle per detector, and the sentence saying where the focus detector wins
 * and loses, written from the numbers.
 */
import {
  METRIC_DIRECTION,
  ranks,
  type DetectorRow,
  type DetectorVerdict,
  type HeadToHead,
  type ShiftGroup,
} from '../analysis/ood-benchmark';
import { mean } from '../metrics/stats';
import type { OodMetrics } from '../metrics/detection';
import type { OdinTuning } from '../analysis/odin';
import { escapeHtml as esc, html, type Html } from './html';
import { legendBelow } from './layout';
import { PALETTE, seriesColor } from './palette';
import type { Figure } from './plotly';

/** The metrics' names in tables and captions. */
export const METRIC_NAMES: Readonly<Record<keyof OodMetrics, string>> = Object.freeze({
  auroc: 'AUROC',
  auprIn: 'AUPR-in',
  auprOut: 'AUPR-out',
  fpr95: 'FPR@95',
});

const format = (metric: keyof OodMetrics, v: number) =>
  metric === 'fpr95' ? `${(100 * v).toFixed(1)} %` : v.toFixed(3);

/** One column of the table: a set, or the mean over a group's sets. */
interface Column {
  title: string;
  note: string;
  /** Value per detector, in the detectors' order. */
  values: number[];
  ranked: boolean;
}

function columns(rows: readonly DetectorRow[], detectors: string[], metric: keyof OodMetrics): Column[] {
  const sets = [...new Set(rows.map((r) => r.set))];
  const cell = (d: string, s: string) => rows.find((r) => r.detector === d && r.set === s)![metric];
  const out: Column[] = sets.map((s) => {
    const group: ShiftGroup = rows.find((r) => r.set === s)!.group;
    return {
      title: s,
      note: group === 'control' ? 'control, not ranked' : group,
      values: detectors.map((d) => cell(d, s)),
      ranked: group !== 'control',
    };
  });
  for (const group of ['near', 'far'] as const) {
    const inGroup = sets.filter((s) => rows.find((r) => r.set === s)!.group === group);
    if (inGroup.length === 0) continue;
    out.push({
      title: `${group} mean`,
      note: `${inGroup.length} set${inGroup.length === 1 ? '' : 's'}`,
      values: detectors.map((d) => mean(inGroup.map((s) => cell(d, s)))),
      ranked: true,
    });
  }
  return out;
}

/** Options of {@link detectorTable}. */
export interface DetectorTableOptions {
  /** The metric shown. Default 'auroc'. */
  metric?: keyof OodMetrics;
  /** The detector whose rank is given under each column. Default 'credibility'. */
  focus?: string;
  caption?: string;
}

/**
 * One metric of every detector (rows) on every shifted set (columns), then the near and far means;
 * the best value of each ranked column in bold (ties: all of them), and a last row with the focus
 * detector's rank in each column (1 = best; equal values share the best rank).
 */
export function detectorTable(rows: readonly DetectorRow[], options: DetectorTableOptions = {}): Html {
  const metric = options.metric ?? 'auroc';
  const focus = options.focus ?? 'credibility';
  const detectors = [...new Set(rows.map((r) => r.detector))];
  const label = (d: string) => rows.find((r) => r.detector === d)!.label;
  const cols = columns(rows, detectors, metric);
  const better = METRIC_DIRECTION[metric];
  const colRanks = cols.map((c) => ranks(c.values, better));
  const head =
    `<tr><th>detector</th>` +
    cols.map((c) => `<th>${esc(c.title)}<br><small style="font-weight:normal">${esc(c.note)}</small></th>`).join('') +
    '</tr>';
  const body = detectors
    .map((d, i) => {
      const cells = cols.map((c, j) => {
        const text = esc(format(metric, c.values[i]));
        return `<td>${c.ranked && colRanks[j][i] === 1 ? `<b>${text}</b>` : text}</td>`;
      });
      const name = d === focus ? `<b>${esc(label(d))}</b>` : esc(label(d));
      return `<tr><td>${name}</td>${cells.join('')}</tr>`;
    })
    .join('');
  const f = detectors.indexOf(focus);
  const rankRow =
    f < 0
      ? ''
      : `<tr><td><i>rank of ${esc(label(focus))}</i></td>` +
        cols.map((c, j) => `<td><i>${c.ranked ? `${colRanks[j][f]} of ${detectors.length}` : '–'}</i></td>`).join('') +
        '</tr>';
  const caption =
    options.caption ??
    `${METRIC_NAMES[metric]} of each detector (${better} is better; the best of each column in bold)`;
  return html(
    `<table class="dknn-table"><caption style="text-align:left"><b>${esc(caption)}</b></caption>` +
      `<thead>${head}</thead><tbody>${body}${rankRow}</tbody></table>`,
  );
}

/** AUROC against the sets' parameter (e.g. the rotation angle), one line per detector; the focus detector drawn thicker. */
export function detectorAurocFigure(
  rows: readonly DetectorRow[],
  options: { title?: string; xLabel?: string; focus?: string } = {},
): Figure {
  const focus = options.focus ?? 'credibility';
  const withParameter = rows.filter((r) => r.parameter !== null);
  const detectors = [...new Set(withParameter.map((r) => r.detector))];
  const xs = [...new Set(withParameter.map((r) => r.parameter!))].sort((a, b) => a - b);
  const traces: Record<string, unknown>[] = detectors.map((d, i) => {
    const mine = withParameter.filter((r) => r.detector === d).sort((a, b) => a.parameter! - b.parameter!);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: mine[0].label,
      x: mine.map((r) => r.parameter),
      y: mine.map((r) => r.auroc),
      line: { color: d === focus ? PALETTE.dark : seriesColor(i), width: d === focus ? 4 : 2 },
      marker: { size: d === focus ? 9 : 6 },
    };
  });
  if (xs.length > 0) {
    traces.push({
      type: 'scatter',
      mode: 'lines',
      name: 'chance (0.5)',
      x: [xs[0], xs[xs.length - 1]],
      y: [0.5, 0.5],
      line: { color: PALETTE.grey, dash: 'dot' },
    });
  }
  return {
    data: traces,
    layout: {
      title: { text: options.title ?? 'AUROC of each detector against the shift' },
      height: 460,
      xaxis: { title: { text: options.xLabel ?? 'parameter' }, tickvals: xs, automargin: true },
      yaxis: { title: { text: 'AUROC (clean vs shifted)' }, range: [0.3, 1.02] },
      legend: legendBelow(),
    },
  };
}

const list = (items: string[]) =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

const shifts = (n: number, group: string) => (n === 1 ? `${group} shift` : `${n} ${group} shifts`);

const versus = (h: HeadToHead) =>
  `${h.set} (${h.auroc.toFixed(3)} against ${h.other.auroc.toFixed(3)} for ${h.other.label})`;

/** A difference of AUROCs as the verdict writes it: three decimals, or the first significant digit when smaller (`0.0008`, not `0.000`). */
function gapText(d: number): string {
  return d >= 0.0005 ? d.toFixed(3) : d.toPrecision(1);
}

/**
 * The verdict in words, every number from `verdict`: the focus detector's far-shift mean AUROC and
 * rank (and the gap to the best when it is not first), then the sets where it wins and where it
 * loses, each with the best other detector's AUROC.
 */
export function detectorVerdictText(verdict: DetectorVerdict): string {
  const { focus, farBest, wins, losses } = verdict;
  const n = verdict.summaries.length;
  const parts: string[] = [];
  if (focus.far && farBest && focus.farRank !== null) {
    const where = `Over the ${shifts(verdict.farSets.length, 'far')} (${list(verdict.farSets)}), ${focus.label}'s mean AUROC is ${focus.far.auroc.toFixed(3)}, rank ${focus.farRank} of ${n}`;
    parts.push(
      focus.farRank === 1
        ? `${where}: the best of the detectors compared${farBest.detector === focus.detector ? '' : ` (tied with ${farBest.label})`}.`
        : `${where}: ${gapText(farBest.far!.auroc - focus.far.auroc)} below the best, ${farBest.label} at ${farBest.far!.auroc.toFixed(3)}.`,
    );
    const behind = verdict.farGap.filter((g) => g.difference > 0);
    const ahead = verdict.farGap.filter((g) => g.difference < 0);
    if (behind.length > 0) {
      const by = (g: { set: string; difference: number }) => `${g.set} (by ${Math.abs(g.difference).toFixed(3)})`;
      parts.push(
        `The gap comes from the sets where ${farBest.label} is ahead: ${list(behind.map(by))}` +
          (ahead.length > 0 ? `; ${focus.label} is ahead on ${list(ahead.reverse().map(by))}.` : '.'),
      );
    }
  }
  if (focus.near) {
    const nearRank = 1 + verdict.summaries.filter((s) => s.near && s.near.auroc > focus.near!.auroc).length;
    parts.push(
      `Over the ${shifts(verdict.nearSets.length, 'near')} (${list(verdict.nearSets)}) its mean AUROC is ${focus.near.auroc.toFixed(3)}, rank ${nearRank} of ${n}.`,
    );
  }
  parts.push(
    wins.length === 0
      ? `It has the best AUROC on none of the shifted sets.`
      : `It has the best AUROC (or shares it) on ${list(wins.map(versus))}.`,
  );
  if (losses.length > 0) parts.push(`It loses on ${list(losses.map(versus))}.`);
  return parts.join(' ');
}

/**
 * ODIN's tuning in a sentence: the parameters chosen, on how many validation images, and how many
 * grid points shared the lowest FPR@95 (then the validation AUROC decided).
 */
export function odinTuningText(tuning: OdinTuning, options: { validation?: string } = {}): string {
  const { best, grid, validation } = tuning;
  const lowest = Math.min(...grid.map((g) => g.fpr95));
  const tied = grid.filter((g) => g.fpr95 === lowest).length;
  const what =
    options.validation ?? `${validation.inDist} in-distribution and ${validation.outDist} shifted validation images`;
  return (
    `ODIN's temperature ${best.temperature} and step ${best.epsilon} were chosen on ${what}, among ${grid.length} grid points: ` +
    (tied === 1
      ? `the only one with the lowest FPR@95 there (${format('fpr95', lowest)}).`
      : `${tied} of them shared the lowest FPR@95 there (${format('fpr95', lowest)}), and the validation AUROC decided between them.`)
  );
}
