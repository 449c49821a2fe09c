/** The notebook's progress bar: an HTML bar updated in place. */
import { escapeHtml } from '../plots/html';
import { formatDuration, formatMetrics, ProgressClock, type ProgressCallback } from '../util/progress';
import { PALETTE } from '../plots/palette';

/** Anything with an `html` method that replaces its content, e.g. `tslab.newDisplay()`. */
export interface HtmlSink {
  html(s: string): void;
}

/**
 * A notebook progress bar: renders an HTML bar into `sink` (e.g. `tslab.newDisplay()`, which
 * overwrites one output in place), at most every `intervalMs` (default 500) and always on completion.
 */
export function htmlProgress(sink: HtmlSink, options: { intervalMs?: number } = {}): ProgressCallback {
  const interval = options.intervalMs ?? 500;
  const clock = new ProgressClock();
  let last = 0;
  return (event) => {
    const now = Date.now();
    const finished = event.done >= event.total;
    const { rate, eta, elapsed } = clock.measure(event);
    if (!finished && now - last < interval) return;
    last = now;
    const pct = event.total > 0 ? Math.min(100, (100 * event.done) / event.total) : 0;
    const unit = event.unit ?? 'item';
    sink.html(
      `<div class="dknn-progress" style="font-family:monospace;font-size:12px">` +
        `<div>${escapeHtml(event.stage)} — ${event.done}/${event.total} (${pct.toFixed(0)}%) · ${rate.toFixed(0)} ${escapeHtml(unit)}/s · elapsed ${formatDuration(elapsed)} · ETA ${finished ? '0:00' : formatDuration(eta)}</div>` +
        `<div style="background:#eee;width:420px;height:10px;border-radius:3px"><div style="background:${finished ? PALETTE.green : PALETTE.blue};width:${pct.toFixed(1)}%;height:10px;border-radius:3px"></div></div>` +
        `<div>${escapeHtml(formatMetrics(event.metrics))}</div></div>`,
    );
  };
}
