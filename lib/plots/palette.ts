/**
 * The one palette of every figure, gallery and progress bar (Vega's category colors): series
 * take {@link seriesColor} in order; named colors carry a meaning (green agrees, red disagrees).
 */
export const PALETTE = Object.freeze({
  blue: '#4c78a8',
  red: '#e45756',
  orange: '#f58518',
  green: '#54a24b',
  teal: '#72b7b2',
  purple: '#b279a2',
  /** Reference lines (chance, targets). */
  grey: '#999999',
  /** The exact baseline in benchmark figures. */
  dark: '#333333',
  /** No data (e.g. a neighbor without a label). */
  light: '#bbbbbb',
});

const SERIES = [PALETTE.blue, PALETTE.red, PALETTE.orange, PALETTE.green, PALETTE.teal, PALETTE.purple];

/** The color of series `i` (cycling). */
export function seriesColor(i: number): string {
  return SERIES[i % SERIES.length];
}
