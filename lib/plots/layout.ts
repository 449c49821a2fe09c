/**
 * Layout pieces shared by the figures: a legend below the plot that never covers the x-axis
 * title, axes whose ticks are whole numbers (counts of points), and the right-hand axes drawn
 * with their own ticks instead of plotly's ticks synchronized to the left axis.
 */

/**
 * A horizontal legend at the bottom of the figure, positioned in the figure's coordinates so that
 * plotly reserves room for it below the x axis instead of drawing it over the axis title. Give the
 * x axis `automargin: true` so the title keeps its own room as well.
 */
export function legendBelow(): Record<string, unknown> {
  return { orientation: 'h', yref: 'container', y: 0, yanchor: 'bottom', x: 0, xanchor: 'left' };
}

/** The smallest whole 1, 2, 2.5 or 5 × 10ⁿ step that shows `max` in at most `ticks` intervals (at least 1). */
export function integerStep(max: number, ticks = 5): number {
  if (!Number.isFinite(max) || max <= ticks) return 1;
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 2.5, 5, 10].map((m) => m * power).filter((s) => Number.isInteger(s));
  return steps.find((s) => s >= raw) ?? 10 * power;
}

/**
 * An axis for counts of points: from 0, ticks at whole numbers (a 1, 2 or 5 × 10ⁿ step chosen
 * from the largest count), printed as integers.
 */
export function countAxis(counts: ArrayLike<number>): Record<string, unknown> {
  let max = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i] > max) max = counts[i];
  return { rangemode: 'tozero', tickmode: 'linear', tick0: 0, dtick: integerStep(max), tickformat: 'd' };
}

/**
 * A second y axis on the right of `overlaying`, with its own automatic ticks (plotly otherwise
 * places them where the left axis has its ticks, at values such as 239.4 or 0.866).
 */
export function rightAxis(overlaying: string, axis: Record<string, unknown>): Record<string, unknown> {
  return { tickmode: 'auto', ...axis, overlaying, side: 'right' };
}
