import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { encodePng, imageGrid } from '../../lib/plots/png';
import { figureHtml, resetFigureHtml } from '../../lib/plots/plotly';
import { createContext, runInContext } from 'node:vm';
import { relative, sep } from 'node:path';
import { tableHtml } from '../../lib/plots/table';
import { histogramFigure, reliabilityFigure } from '../../lib/plots/reliability';
import { trainingCurvesFigure } from '../../lib/plots/training';
import { reliabilityBins } from '../../lib/metrics/classification';

test('encodePng writes a valid greyscale PNG whose pixels inflate back unchanged', () => {
  const px = Uint8Array.from([0, 64, 128, 255, 1, 2]);
  const png = Buffer.from(encodePng({ pixels: px, width: 3, height: 2, channels: 1 }));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.equal(png.readUInt32BE(16), 3);
  assert.equal(png.readUInt32BE(20), 2);
  const idatLen = png.readUInt32BE(33);
  assert.equal(png.toString('latin1', 37, 41), 'IDAT');
  const raw = inflateSync(png.subarray(41, 41 + idatLen));
  assert.deepEqual([...raw], [0, 0, 64, 128, 0, 255, 1, 2]);
  assert.throws(() => encodePng({ pixels: px, width: 4, height: 2, channels: 1 }), /expected 4×2×1 = 8 bytes, found 6/);
});

test('imageGrid tiles images with padding and upscaling, clipping values to [0,1]', () => {
  const images = Float32Array.from([0, 1, 1, 0, /* image 1 */ 2, -1, 0.5, 0.5]); // two 2×2 images
  const g = imageGrid(
    { images: images, height: 2, width: 2, channels: 1 },
    { indices: [1, 0], cols: 2, pad: 1, scale: 1, background: 7 },
  );
  assert.equal(g.width, 2 * 2 + 3);
  assert.equal(g.height, 2 + 2);
  assert.equal(g.pixels[0], 7, 'padding has the background color');
  assert.deepEqual([...g.pixels.subarray(g.width + 1, g.width + 3)], [255, 0], 'first tile is image 1, clipped');
  assert.deepEqual([...g.pixels.subarray(g.width + 4, g.width + 6)], [0, 255], 'second tile is image 0');
  assert.throws(
    () => imageGrid({ images: images, height: 2, width: 2, channels: 1 }, { indices: [2] }),
    /image index 2 is outside the 2 images given/,
  );
});

test('figureHtml inlines the plotly bundle once, hides AMD define around it, and escapes </script>', () => {
  resetFigureHtml();
  const a = figureHtml({ data: [{ type: 'bar', x: [1], y: ['</script><b>'] }], layout: {} });
  const b = figureHtml({ data: [], layout: {} });
  assert.ok(a.length > 1_000_000 && a.includes('window.define = undefined'), 'first figure carries the bundle');
  assert.ok(b.length < 4000, 'second figure does not');
  assert.ok(
    !a.split('<script>').at(-1)!.slice(0, -'</script>'.length).includes('</script'),
    'data cannot close the script tag',
  );
  assert.notEqual(/id="([^"]+)"/.exec(a)![1], /id="([^"]+)"/.exec(b)![1], 'figures get distinct ids');
});

/** Runs the figures' page scripts in a fake page whose clock advances with every timer. */
async function runInFakePage(html: string[], dataset: Record<string, string>, bundleText: string | null) {
  const drawn: string[] = [];
  const fetched: string[] = [];
  const places = new Map<string, { innerHTML: string; style: Record<string, string> }>();
  let now = 0;
  let pending = 0;
  const page: Record<string, unknown> = {
    document: {
      body: { dataset },
      getElementById: (id: string) => {
        if (!places.has(id)) places.set(id, { innerHTML: '', style: {} });
        return places.get(id);
      },
    },
    fetch: async (u: string) => {
      fetched.push(u);
      return bundleText === null
        ? { ok: false, status: 404, text: async () => '' }
        : { ok: true, status: 200, text: async () => bundleText };
    },
    setTimeout: (f: () => void, ms: number) => {
      pending++;
      now += ms;
      setImmediate(() => (pending--, f()));
    },
    Date: { now: () => now },
    drawn,
  };
  page['window'] = page;
  createContext(page);
  for (const h of html) {
    const scripts = [...h.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    runInContext(scripts.at(-1)!, page);
  }
  for (let i = 0; i < 200 && (pending > 0 || i < 5); i++) await new Promise((r) => setImmediate(r));
  return { drawn, fetched, places };
}

test('a figure on a page without plotly fetches the bundle once from the Jupyter server and draws', async () => {
  resetFigureHtml();
  const figs = [1, 2].map(() => figureHtml({ data: [], layout: {} }, { includeLibrary: false }));
  const rel = relative(process.cwd(), require.resolve('plotly.js-dist-min')).split(sep).join('/');
  const ok = await runInFakePage(
    figs,
    { baseUrl: '/base/', notebookPath: 'x.ipynb' },
    'window.Plotly = { newPlot: function (id) { window.drawn.push(id); } };',
  );
  assert.deepEqual(ok.fetched, [`/base/files/${rel}`], 'one fetch, from the notebook folder');
  assert.equal(ok.drawn.length, 2, 'both figures drawn');
  const outside = await runInFakePage(figs.slice(0, 1), { baseUrl: '/', notebookPath: 'x.ipynb' }, null);
  assert.equal(outside.drawn.length, 0);
  const [place] = [...outside.places.values()];
  assert.match(place!.innerHTML, /needs plotly\.js.*HTTP 404/, 'an unreachable bundle is said, not left blank');
  const nbconvert = await runInFakePage(figs.slice(0, 1), {}, null);
  assert.deepEqual(nbconvert.fetched, [], 'no server, no fetch');
  assert.match([...nbconvert.places.values()][0]!.innerHTML, /not served by a Jupyter server/);
});

test('tableHtml renders rows and danfo-like frames, escaping HTML and rounding non-integers', () => {
  const html = tableHtml([{ name: '<x>', v: 0.123456, n: 3 }], { caption: 'T' });
  assert.ok(html.includes('<th>name</th><th>v</th><th>n</th>'));
  assert.ok(html.includes('<td>&lt;x&gt;</td><td>0.1235</td><td>3</td>'));
  const df = tableHtml(
    {
      columns: ['a', 'b'],
      values: [
        [1, 2.5],
        [3, 4],
      ],
    },
    { digits: 1 },
  );
  assert.ok(df.includes('<td>1</td><td>2.5</td></tr><tr><td>3</td><td>4</td>'));
});

test('reliabilityFigure draws accuracy bars and a count line on a second axis per panel', () => {
  const d = reliabilityBins([0.05, 0.95, 0.95, 1], [1, 1, 0, 1]);
  const fig = reliabilityFigure([
    { title: 'DNN', diagram: d, xLabel: 'Prediction Confidence' },
    { title: 'DkNN', diagram: d, xLabel: 'Prediction Credibility' },
  ]);
  assert.equal(fig.data.length, 4);
  const bars = fig.data[0] as { y: number[] };
  assert.equal(bars.y.length, 10);
  assert.equal(bars.y[9], 2 / 3, 'last bin holds 0.95, 0.95 and 1.0');
  assert.equal(bars.y[5], 0, 'empty bins drawn at 0');
  assert.deepEqual((fig.data[1] as { y: number[] }).y.slice(8), [0, 3]);
  assert.equal((fig.data[3] as { yaxis: string }).yaxis, 'y4');
  assert.equal((fig.layout.yaxis4 as { overlaying: string }).overlaying, 'y3');
  assert.equal((fig.layout.xaxis2 as { title: { text: string } }).title.text, 'Prediction Credibility');
});

test('histogramFigure and trainingCurvesFigure carry their data', () => {
  const h = histogramFigure(
    [
      { name: 'clean', values: [0.1, 0.9] },
      { name: 'adv', values: [0.05] },
    ],
    { bins: 10 },
  );
  assert.equal(h.data.length, 2);
  assert.equal((h.data[0] as { name: string }).name, 'clean (n = 2)');
  const t = trainingCurvesFigure(
    [
      { epoch: 1, step: 1, loss: 2, accuracy: 0.1 },
      { epoch: 1, step: 2, loss: 1, accuracy: 0.5 },
    ],
    [{ epoch: 1, loss: 1.5, accuracy: 0.3, evalAccuracy: 0.6, seconds: 1, imagesPerSecond: 10 }],
  );
  assert.equal(t.data.length, 3);
  assert.deepEqual((t.data[2] as { x: number[]; y: number[] }).x, [2]);
});
