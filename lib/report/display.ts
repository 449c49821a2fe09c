/**
 * The one display helper of the notebooks: `show(...)` takes what the lib's builders return
 * (plotly figures, tables and other HTML, markdown, PNG images) and displays each in the running
 * tslab kernel. Outside a kernel (tests, scripts) the items go to a sink set with
 * {@link setDisplaySink}, or are dropped. Progress bars for notebooks come from here too.
 */
import { figureHtml, type Figure } from '../plots/plotly';
import { type ProgressCallback } from '../util/progress';
import type { Html, Markdown, Png } from '../plots/html';
import { tslabKernel } from '../native/tslab';
import { htmlProgress } from './progress-bar';

/** What {@link show} displays. A plain string is markdown. */
export type Displayable = Figure | Html | Markdown | Png | string;

/** A displayable resolved to one MIME type and its content. */
export interface DisplayItem {
  mime: 'text/html' | 'text/markdown' | 'image/png';
  content: string | Uint8Array;
}

let sink: ((item: DisplayItem) => void) | null = null;

/** Where {@link show} sends items when no tslab kernel is running (null: drop them). Returns the previous sink. */
export function setDisplaySink(next: ((item: DisplayItem) => void) | null): ((item: DisplayItem) => void) | null {
  const prev = sink;
  sink = next;
  return prev;
}

function isFigure(x: unknown): x is Figure {
  return (
    typeof x === 'object' && x !== null && Array.isArray((x as Figure).data) && typeof (x as Figure).layout === 'object'
  );
}

/** The MIME type and content of a displayable. */
export function displayItem(x: Displayable): DisplayItem {
  if (typeof x === 'string') return { mime: 'text/markdown', content: x };
  if (isFigure(x)) return { mime: 'text/html', content: figureHtml(x) };
  switch (x.kind) {
    case 'html':
      return { mime: 'text/html', content: x.html };
    case 'markdown':
      return { mime: 'text/markdown', content: x.text };
    case 'png':
      return { mime: 'image/png', content: x.bytes };
  }
  throw new Error(`show: expected a figure, html(), markdown(), a PNG or a string, found ${JSON.stringify(x)}`);
}

/** Displays each item in order (see the module comment). */
export function show(...items: Displayable[]): void {
  const k = tslabKernel();
  for (const x of items) {
    const item = displayItem(x);
    if (!k) {
      sink?.(item);
      continue;
    }
    if (item.mime === 'text/html') k.display.html(item.content as string);
    else if (item.mime === 'text/markdown') k.display.markdown(item.content as string);
    else k.display.png(item.content as Uint8Array);
  }
}

/**
 * A progress bar for a notebook: an HTML bar updated in place in a new output of the running
 * tslab kernel; outside a kernel, a callback that ignores the reports.
 */
export function notebookProgress(): ProgressCallback {
  const k = tslabKernel();
  return k ? htmlProgress(k.newDisplay()) : () => undefined;
}
