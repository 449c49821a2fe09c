/**
 * Progress reporting. Lib code never prints: long work calls an `onProgress` callback with a
 * {@link ProgressEvent}; the CLI renders it as a terminal bar ({@link terminalProgress}) and a
 * notebook as an HTML bar updated in place (`report/progress-bar.ts`).
 */

/** One progress report of a long-running stage. */
export interface ProgressEvent {
  /** What is running, e.g. "train epoch 2/6", "extract ReLU3", "index build". */
  stage: string;
  /** Units done so far in this stage. */
  done: number;
  /** Units in the whole stage. */
  total: number;
  /** Unit name for rates, e.g. "img", "query". Default "item". */
  unit?: string;
  /** Extra named figures shown beside the bar (loss, accuracy, …). */
  metrics?: Record<string, number>;
}

/** A callback receiving progress reports. */
export type ProgressCallback = (event: ProgressEvent) => void;

/** Tracks rate and ETA of a stage; both renderers use it. */
export class ProgressClock {
  private start = Date.now();
  private stage = '';
  private startDone = 0;

  /** Returns units/s and remaining seconds for `event` (restarting the clock when the stage changes). */
  measure(event: ProgressEvent): { rate: number; eta: number; elapsed: number } {
    if (event.stage !== this.stage || event.done < this.startDone) {
      this.stage = event.stage;
      this.start = Date.now();
      this.startDone = event.done;
    }
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = elapsed > 0 ? (event.done - this.startDone) / elapsed : 0;
    const eta = rate > 0 ? (event.total - event.done) / rate : NaN;
    return { rate, eta, elapsed };
  }
}

/** Formats seconds as m:ss (or h:mm:ss). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The named figures of a report as one line, e.g. `loss 0.1234  acc 0.9`. */
export function formatMetrics(metrics: Record<string, number> | undefined): string {
  if (!metrics) return '';
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(4)}`)
    .join('  ');
}

/** One line of text describing `event` (used by the terminal bar and in logs). */
export function describeProgress(event: ProgressEvent, clock: ProgressClock, width = 28): string {
  const { rate, eta, elapsed } = clock.measure(event);
  const frac = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const unit = event.unit ?? 'item';
  return `${event.stage} ${bar} ${event.done}/${event.total} ${(frac * 100).toFixed(0)}%  ${rate.toFixed(0)} ${unit}/s  elapsed ${formatDuration(elapsed)}  ETA ${formatDuration(eta)}  ${formatMetrics(event.metrics)}`.trimEnd();
}

/**
 * A terminal progress bar on `stream` (default stderr), redrawn in place with `\r` at most every
 * `intervalMs` (default 200) and finished with a newline when a stage completes. On a non-TTY
 * stream (CI logs) it prints one line per completed stage and every `logEveryMs` (default 10 s).
 */
export function terminalProgress(
  options: { stream?: NodeJS.WriteStream; intervalMs?: number; logEveryMs?: number } = {},
): ProgressCallback {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 200;
  const logEvery = options.logEveryMs ?? 10_000;
  const clock = new ProgressClock();
  let last = 0;
  return (event) => {
    const now = Date.now();
    const finished = event.done >= event.total;
    const tty = Boolean(stream.isTTY);
    if (!finished && now - last < (tty ? interval : logEvery)) {
      clock.measure(event);
      return;
    }
    last = now;
    const line = describeProgress(event, clock);
    if (tty) stream.write(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  };
}
