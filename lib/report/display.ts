/**
 * The one display helper of the notebooks: `show(...)` takes what the lib's builders return
 * (plotly figures, tables and other HTML, markdown, PNG images) and displays each in the running
 * tslab kernel. Outside a kernel (a script) each item is printed as text (markdown as it is,
 * tables as rows of cells, figures and images as a line saying where they are) and the whole
 * output is kept as one HTML page, `dknn-output.html` in the working folder (or
 * `$DKNN_SHOW_FILE`), rewritten after every call; a sink set with {@link setDisplaySink} takes the
 * items instead. Progress bars for notebooks come from here too.
 */
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../artifacts/atomic';
import { inlineBundleHtml } from '../plots/plotly';
import { figureHtml, type Figure } from '../plots/plotly';
import { type ProgressCallback } from '../util/progress';
import { escapeHtml, type Html, type Markdown, type Png } from '../plots/html';
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

/** Where {@link show} sends items when no tslab kernel is running (null: print them and write the page). Returns the previous sink. */
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
export function displayItem(x: Displayable, options: { includeLibrary?: boolean } = {}): DisplayItem {
  if (typeof x === 'string') return { mime: 'text/markdown', content: x };
  if (isFigure(x)) return { mime: 'text/html', content: figureHtml(x, options) };
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

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** Plain text of an HTML fragment: table rows as `a | b | c` lines, other tags dropped. */
export function htmlText(h: string): string {
  return h
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<\/(td|th)>\s*<(td|th)[^>]*>/gi, ' | ')
    .replace(/<\/(tr|p|div|caption|h\d|li)>|<br\s*\/?>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e)
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The page that {@link show} keeps outside a kernel: its path and the HTML of the items so far. */
const page = { path: '', body: [] as string[], announced: false };

function pageItem(item: DisplayItem): string {
  if (item.mime === 'text/html') return item.content as string;
  if (item.mime === 'image/png')
    return `<img src="data:image/png;base64,${Buffer.from(item.content as Uint8Array).toString('base64')}">`;
  const text = (item.content as string).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<pre style="white-space:pre-wrap;font:14px sans-serif">${text}</pre>`;
}

/** Outside a kernel: prints the items as text and rewrites the page holding all of them. */
function showInScript(items: DisplayItem[]): void {
  page.path ||= resolve(process.env['DKNN_SHOW_FILE'] || join(process.cwd(), 'dknn-output.html'));
  const lines: string[] = [];
  for (const item of items) {
    page.body.push(pageItem(item));
    if (item.mime === 'text/markdown') lines.push(item.content as string);
    else if (item.mime === 'image/png') lines.push(`[image: see ${page.path}]`);
    else if ((item.content as string).includes('class="dknn-figure"')) lines.push(`[figure: see ${page.path}]`);
    else lines.push(htmlText(item.content as string));
  }
  writeFileAtomic(
    page.path,
    `<!doctype html><html><head><meta charset="utf-8"><title>dknn-ts output</title>${inlineBundleHtml()}</head>` +
      `<body style="font-family:sans-serif;max-width:1100px;margin:auto">${page.body.join('\n<hr>\n')}</body></html>\n`,
  );
  if (!page.announced) {
    lines.unshift(`(dk.show: not in a notebook kernel; printing text here and writing everything to ${page.path})`);
    page.announced = true;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Displays each item in order (see the module comment). */
export function show(...items: Displayable[]): void {
  const k = tslabKernel();
  if (!k) {
    if (sink) items.forEach((x) => sink!(displayItem(x)));
    else showInScript(items.map((x) => displayItem(x, { includeLibrary: false })));
    return;
  }
  for (const x of items) {
    const item = displayItem(x);
    if (item.mime === 'text/html') k.display.html(item.content as string);
    else if (item.mime === 'text/markdown') k.display.markdown(item.content as string);
    else k.display.png(item.content as Uint8Array);
  }
}

/**
 * A warning for the reader: in a tslab kernel a visible note in the cell's output (a notebook writes
 * nothing to stderr, where a report would hide it and `npm run reproduce` counts it a failure);
 * elsewhere a process warning (`DkNNWarning`).
 */
export function notebookWarning(message: string): void {
  const k = tslabKernel();
  if (!k) {
    process.emitWarning(message, 'DkNNWarning');
    return;
  }
  k.display.html(
    `<div class="dknn-warning" style="border-left:4px solid #c33;background:#fff1f0;padding:6px 10px;margin:4px 0;font:14px sans-serif"><b>Warning</b>: ${escapeHtml(message)}</div>`,
  );
}

/**
 * A progress bar for a notebook: an HTML bar updated in place in a new output of the running
 * tslab kernel; outside a kernel, a callback that ignores the reports.
 */
export function notebookProgress(): ProgressCallback {
  const k = tslabKernel();
  return k ? htmlProgress(k.newDisplay()) : () => undefined;
}
