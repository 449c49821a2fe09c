import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';

/** A plotly figure: traces, layout and config, as plotly.js takes them. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

let bundle: string | undefined;
let bundleEmitted = false;
let figureCounter = 0;

/** Path of the plotly.js bundle (plotly.js-dist-min) file. */
function bundlePath(): string {
  return require.resolve('plotly.js-dist-min');
}

/** The plotly.js bundle source text. */
export function plotlyBundle(): string {
  bundle ??= readFileSync(bundlePath(), 'utf8');
  return bundle;
}

/** The bundle's path relative to the kernel's working folder (the notebook's folder), `/`-separated. */
function bundleFromCwd(): string {
  return relative(process.cwd(), bundlePath()).split(sep).join('/');
}

/** The `<script>` tags that inline the bundle, with AMD `define` hidden so it sets `window.Plotly`. */
export function inlineBundleHtml(): string {
  return (
    `<script>window.__dknnDefine = window.define; window.define = undefined;</script>` +
    `<script>${plotlyBundle().replace(/<\/script/gi, '<\\/script')}</script>` +
    `<script>window.define = window.__dknnDefine;</script>`
  );
}

/**
 * The page-side drawing code. If `window.Plotly` is missing (the figure cell was re-run, the page
 * reloaded, a second tab opened: the bundle inlined in the kernel's first figure is not on this
 * page), it waits briefly for an inlined bundle further down, then fetches the bundle once per page
 * from the Jupyter server that serves the notebook (`<base>/files/<notebook folder>/<rel>`, `rel`
 * being the bundle's path from the kernel's folder) and evaluates it with AMD and CommonJS hidden.
 * When nothing works it writes why into the figure's place instead of leaving it blank.
 */
const DRAW_JS = `function(id,s,rel){var w=window;var t0=Date.now();
function say(m){var d=document.getElementById(id);if(d){d.style.minHeight='0';d.innerHTML='<p style="color:#a00;font:13px sans-serif">'+m+'</p>';}}
function url(){var b=(document.body&&document.body.dataset)||{};if(!rel||b.baseUrl===undefined||b.notebookPath===undefined)return null;
var p=b.notebookPath.split('/');p.pop();var segs=rel.split('/');for(var i=0;i<segs.length;i++){var x=segs[i];if(x==='..'){if(!p.length)return null;p.pop();}else if(x&&x!=='.')p.push(x);}
return b.baseUrl.replace(/\\/?$/,'/')+'files/'+p.map(encodeURIComponent).join('/');}
function load(){if(w.__dknnPlotly)return w.__dknnPlotly;var u=url();if(!u)return Promise.reject(new Error('this page is not served by a Jupyter server that can reach '+rel));
w.__dknnPlotly=fetch(u,{credentials:'same-origin'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status+' for '+u);return r.text();})
.then(function(t){if(!w.Plotly)new Function('define','module','exports',t).call(w);if(!w.Plotly)throw new Error(u+' did not define window.Plotly');});
w.__dknnPlotly.catch(function(){w.__dknnPlotly=undefined;});return w.__dknnPlotly;}
function draw(){if(w.Plotly){w.Plotly.newPlot(id,s.data,s.layout,s.config);return;}if(Date.now()-t0<300){setTimeout(draw,50);return;}
load().then(draw,function(e){if(w.Plotly)return draw();if(Date.now()-t0<8000){setTimeout(draw,1000);return;}
say('This figure needs plotly.js, which is not on this page and could not be loaded ('+e.message+'). Run the notebook from its first cell, or open it with npm run notebook.');});}
draw();}`.replace(/\n/g, '');

/**
 * HTML that draws `figure` with plotly.js. The first figure of a process (or any figure with
 * `includeLibrary: true`) inlines the plotly bundle, so an exported notebook or report is
 * self-contained and works offline; every figure can also fetch the bundle from the Jupyter server
 * when the page has none (see {@link DRAW_JS}), so figures survive re-runs, reloads and second tabs.
 */
export function figureHtml(figure: Figure, options: { includeLibrary?: boolean; id?: string } = {}): string {
  const include = options.includeLibrary ?? !bundleEmitted;
  bundleEmitted ||= include;
  const id = options.id ?? `dknn-fig-${process.pid}-${++figureCounter}`;
  const spec = JSON.stringify({
    data: figure.data,
    layout: figure.layout,
    config: { responsive: true, displaylogo: false, ...figure.config },
  }).replace(/<\//g, '<\\/');
  const args = [JSON.stringify(id), spec, JSON.stringify(bundleFromCwd())].join(',');
  return (
    `${include ? inlineBundleHtml() : ''}<div id="${id}" class="dknn-figure" style="width:100%;min-height:${Number(figure.layout.height ?? 420)}px"></div>` +
    `<script>(${DRAW_JS})(${args});</script>`
  );
}

/** Forgets that the bundle was emitted (the next figure inlines it again), e.g. for a new report. */
export function resetFigureHtml(): void {
  bundleEmitted = false;
}
