import { readFileSync } from 'node:fs';

/** A plotly figure: traces, layout and config, as plotly.js takes them. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

let bundle: string | undefined;
let bundleEmitted = false;
let figureCounter = 0;

/** The plotly.js bundle (plotly.js-dist-min) source text. */
export function plotlyBundle(): string {
  bundle ??= readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  return bundle;
}

/**
 * HTML that draws `figure` with plotly.js. The first figure of a process (or any figure with
 * `includeLibrary: true`) inlines the plotly bundle, so an exported notebook is self-contained and
 * works offline; the bundle is loaded with AMD `define` hidden, so it sets `window.Plotly` even
 * where require.js is on the page (classic Jupyter).
 */
export function figureHtml(figure: Figure, options: { includeLibrary?: boolean; id?: string } = {}): string {
  const include = options.includeLibrary ?? !bundleEmitted;
  bundleEmitted ||= include;
  const id = options.id ?? `dknn-fig-${process.pid}-${++figureCounter}`;
  const lib = include
    ? `<script>window.__dknnDefine = window.define; window.define = undefined;</script>` +
      `<script>${plotlyBundle().replace(/<\/script/gi, '<\\/script')}</script>` +
      `<script>window.define = window.__dknnDefine;</script>`
    : '';
  const spec = JSON.stringify({
    data: figure.data,
    layout: figure.layout,
    config: { responsive: true, displaylogo: false, ...figure.config },
  }).replace(/<\//g, '<\\/');
  return (
    `${lib}<div id="${id}" class="dknn-figure" style="width:100%;min-height:${Number(figure.layout.height ?? 420)}px"></div>` +
    `<script>(function(){var s=${spec};var draw=function(){if(!window.Plotly){return setTimeout(draw,50);}window.Plotly.newPlot("${id}",s.data,s.layout,s.config);};draw();})();</script>`
  );
}

/** Forgets that the bundle was emitted (the next figure inlines it again), e.g. for a new report. */
export function resetFigureHtml(): void {
  bundleEmitted = false;
}
