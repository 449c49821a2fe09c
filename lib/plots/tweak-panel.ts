/**
 * A report section the reader can tweak: k (1…kMax), the layers and the p-value formula set in the
 * page, and the summary table, reliability diagram and credibility histogram follow, re-scored in
 * the browser by the same code as `DkNN.rescore` (see `tweak-page.ts`, bundled by
 * `scripts/build-page-bundle.mjs` at `npm run build`). The panel embeds what re-scoring needs, packed:
 * the labels of every input's and every calibration input's kMax neighbors per layer as int8 (int16
 * beyond 127 classes), base64 — 9,250 inputs × 4 layers × 100 neighbors ≈ 3.7 MB, 4.9 MB as base64.
 * Self-contained: no network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PValueFormula } from '../conformal/calibrator';
import type { RescoreBasis } from '../dknn/rescore';
import type { DkNNPrediction, LayerNeighbors } from '../dknn/types';
import { escapeHtml as esc, html, type Html } from './html';
import { figureHtml } from './plotly';
import { decodePayload, tweakView, type TweakPayload } from './tweak-page';

/** Options of {@link tweakPanel}. */
export interface TweakPanelOptions {
  /** True labels of the prediction's inputs. */
  labels: ArrayLike<number>;
  /** Neighbors per layer embedded (the reader picks k in 1…kMax). Default: the DkNN's k. */
  kMax?: number;
  /** The choice shown first. Default: k = kMax, every layer, the DkNN's formula. */
  k?: number;
  layers?: readonly string[];
  formula?: PValueFormula;
  /** The input set, e.g. 'clean' (the summary table's row). Default 'inputs'. */
  name?: string;
}

const BUNDLE = 'dknn-tweak.js';
let panelCounter = 0;

/** The page bundle's text (lib/dist/page/dknn-tweak.js, beside lib/dist/plots or from the source folder). */
function pageBundle(): string {
  const places = [join(__dirname, '..', 'page', BUNDLE), join(__dirname, '..', 'dist', 'page', BUNDLE)];
  const found = places.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `tweakPanel: the page script ${BUNDLE} is missing (looked in ${places.join(', ')}); run npm run build`,
    );
  return readFileSync(found, 'utf8');
}

function base64(a: Int8Array | Int16Array | Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Labels of the first kMax neighbors of each row of every list, one typed array (-1 = missing). */
function packLabels(
  lists: LayerNeighbors[],
  kMax: number,
  trainLabels: Int32Array,
  make: (n: number) => Int8Array | Int16Array,
): Int8Array | Int16Array {
  const rows = lists[0]?.rows ?? 0;
  const out = make(lists.length * rows * kMax);
  lists.forEach((nb, l) => {
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < kMax; j++) {
        const t = nb.indices[r * nb.k + j];
        out[(l * rows + r) * kMax + j] = t < 0 ? -1 : trainLabels[t];
      }
  });
  return out;
}

/** The payload of {@link tweakPanel}, checked. */
export function tweakPayload(basis: RescoreBasis, pred: DkNNPrediction, options: TweakPanelOptions): TweakPayload {
  const kMax = options.kMax ?? basis.k;
  if (!Number.isSafeInteger(kMax) || kMax < 1 || kMax > basis.k)
    throw new RangeError(`tweakPanel: kMax must be an integer in 1…${basis.k} (the DkNN's k), found ${kMax}`);
  const C = basis.numClasses;
  if (options.labels.length !== pred.n)
    throw new Error(`tweakPanel: expected ${pred.n} labels (one per input), found ${options.labels.length}`);
  for (let i = 0; i < pred.n; i++) {
    const y = options.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= C)
      throw new Error(`tweakPanel: labels[${i}]: expected an integer in 0…${C - 1}, found ${y}`);
  }
  const lists = basis.layers.map((layer) => {
    const nb = pred.neighbors.find((x) => x.layer === layer);
    if (!nb || nb.k !== basis.k || nb.rows !== pred.n)
      throw new RangeError(
        `tweakPanel: the prediction has no ${basis.k}-neighbor list of layer ${layer}: was it made by this DkNN?`,
      );
    return nb;
  });
  const labelType = C <= 127 ? 'int8' : 'int16';
  const make = (n: number) => (labelType === 'int8' ? new Int8Array(n) : new Int16Array(n));
  const small = (a: ArrayLike<number>) => {
    const out = make(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i];
    return base64(out);
  };
  return {
    version: 1,
    name: options.name ?? 'inputs',
    layers: [...basis.layers],
    kMax,
    numClasses: C,
    missing: basis.missing,
    labelType,
    n: pred.n,
    calibN: basis.calibLabels.length,
    neighborLabels: base64(packLabels(lists, kMax, basis.trainLabels, make)),
    calibNeighborLabels: base64(packLabels(basis.calibNeighbors, kMax, basis.trainLabels, make)),
    calibLabels: small(basis.calibLabels),
    labels: small(options.labels),
    dnnPredictions: small(pred.dnnPredictions),
    dnnConfidence: base64(Float32Array.from(pred.dnnConfidence)),
    initial: {
      k: options.k ?? kMax,
      layers: [...(options.layers ?? basis.layers)],
      formula: options.formula ?? basis.formula,
    },
  };
}

/**
 * The page's script: decodes the payload once, then re-renders on every change (k by slider or
 * number, a layer box, the formula); a change during a render waits for the next frame. After each
 * render the panel's element carries `data-renders` (a count), `data-render-ms` (from the change to
 * the figures drawn), `data-compute-ms` (the re-score, summary and figure specs alone) and
 * `data-summary` (the summary's numbers as JSON); a choice re-scoring refuses (e.g. no layer) shows
 * its message and sets `data-error`.
 */
const GLUE_JS = `function(id){var w=window,T=w.__dknnTweak,root=document.getElementById(id);if(!root)return;
function $(s){return document.getElementById(id+'-'+s);}var status=$('status');
if(!T){status.textContent='The page script of this panel did not load.';return;}
var st=T.decodePayload(JSON.parse($('data').textContent)),kMax=st.payload.kMax,seq=0,pending=false;
function choice(){var layers=[];root.querySelectorAll('input[data-layer]').forEach(function(c){if(c.checked)layers.push(c.value);});
return{k:Number($('k').value),layers:layers,formula:$('formula').value};}
function render(){pending=false;var t0=performance.now(),my=++seq,v;
try{v=T.tweakView(st,choice());}catch(e){root.dataset.error=e.message;status.textContent=e.message;root.dataset.renders=String(my);return;}
root.dataset.computeMs=(performance.now()-t0).toFixed(1);delete root.dataset.error;root.dataset.summary=JSON.stringify(v.summary);$('table').innerHTML=v.table;
var cfg={responsive:true,displaylogo:false},P=w.Plotly;
var drawn=P?Promise.all([P.react(id+'-rel',v.reliability.data,v.reliability.layout,cfg),P.react(id+'-hist',v.histogram.data,v.histogram.layout,cfg)]):Promise.resolve();
drawn.then(function(){requestAnimationFrame(function(){if(my!==seq)return;var ms=performance.now()-t0;
root.dataset.renderMs=ms.toFixed(1);root.dataset.renders=String(my);status.textContent='re-scored and drawn in '+ms.toFixed(0)+' ms';});});}
function later(){if(!pending){pending=true;requestAnimationFrame(render);}}
function setK(x){var k=Math.max(1,Math.min(kMax,Math.round(Number(x))||1));$('k').value=k;$('k-range').value=k;later();}
$('k-range').addEventListener('input',function(e){setK(e.target.value);});
$('k').addEventListener('change',function(e){setK(e.target.value);});
root.querySelectorAll('input[data-layer]').forEach(function(c){c.addEventListener('change',later);});
$('formula').addEventListener('change',later);
root.dataset.renders='0';root.dataset.summary=JSON.stringify(T.tweakView(st,choice()).summary);}`.replace(/\n/g, '');

function controlsHtml(id: string, p: TweakPayload): string {
  const i = p.initial;
  const box = (l: string) =>
    `<label style="margin-right:.8em"><input type="checkbox" data-layer value="${esc(l)}"${i.layers.includes(l) ? ' checked' : ''}> ${esc(l)}</label>`;
  const option = (f: PValueFormula, text: string) =>
    `<option value="${f}"${i.formula === f ? ' selected' : ''}>${text}</option>`;
  return (
    `<div style="display:flex;flex-wrap:wrap;gap:.6em 2em;align-items:center;font:14px sans-serif;margin:.5em 0">` +
    `<label>k <input id="${id}-k-range" type="range" min="1" max="${p.kMax}" value="${i.k}" style="vertical-align:middle;width:14em"> ` +
    `<input id="${id}-k" type="number" min="1" max="${p.kMax}" value="${i.k}" style="width:4.5em"> of ${p.kMax}</label>` +
    `<span>layers ${p.layers.map(box).join('')}</span>` +
    `<label>p-values <select id="${id}-formula">${option('reference', 'reference (CleverHans)')}${option('conformal', 'conformal (textbook)')}</select></label>` +
    `<span id="${id}-status" style="color:#555"></span></div>`
  );
}

/**
 * The tweak panel of `pred` (a prediction of `dknn`, searched at its k with all its layers): controls
 * for k, the layers and the formula, and the summary table, reliability diagram and credibility
 * histogram of the re-scored prediction, drawn for the initial choice and redrawn in the page.
 * @throws for a kMax above the DkNN's k, labels of another length or out of range, a prediction
 *   without the DkNN's neighbor lists, or an initial choice `DkNN.rescore` refuses.
 */
export function tweakPanel(
  dknn: { readonly rescoreBasis: RescoreBasis },
  pred: DkNNPrediction,
  options: TweakPanelOptions,
): Html {
  const payload = tweakPayload(dknn.rescoreBasis, pred, options);
  const view = tweakView(decodePayload(payload), payload.initial);
  const id = `dknn-tweak-${process.pid}-${++panelCounter}`;
  const data = JSON.stringify(payload).replace(/<\//g, '<\\/');
  const bundle = pageBundle().replace(/<\/script/gi, '<\\/script');
  return html(
    `<div id="${id}" class="dknn-tweak" style="border:1px solid #ddd;border-radius:6px;padding:.6em 1em">` +
      `<div style="font:bold 15px sans-serif">Tweak it: re-scored in this page from the ${payload.kMax} neighbors per layer kept for every input</div>` +
      controlsHtml(id, payload) +
      `<div id="${id}-table">${view.table}</div>` +
      figureHtml(view.reliability, { id: `${id}-rel` }) +
      figureHtml(view.histogram, { id: `${id}-hist` }) +
      `<script type="application/json" id="${id}-data">${data}</script>` +
      `<script>${bundle}</script><script>(${GLUE_JS})(${JSON.stringify(id)});</script></div>`,
  );
}
