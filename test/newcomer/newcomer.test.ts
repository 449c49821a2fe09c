/**
 * A newcomer's path, scripted: a quick run of notebook 02 with a `--set` override, whose report
 * must say what ran (in Chromium: the override in the banner and the prose, every figure drawn);
 * then the library as a package: `npm run package`, installed into an empty folder outside the
 * repository, used from the README's own-model example (a home-made model with a softmax head) as
 * a `.ts` and an `.mts` script, type-checked, and from a tslab notebook there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { readResults } from '../../lib/report/results';

const root = resolve(__dirname, '..', '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const reports = mkdtempSync(join(tmpdir(), 'dknn-newcomer-reports-'));
const home = mkdtempSync(join(tmpdir(), 'dknn-newcomer-'));
test.after(() => {
  rmSync(reports, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd: options.cwd, encoding: 'utf8', env: { ...process.env, ...options.env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The README's code block announced by `<!-- example: NAME -->`. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- example: ${name.replace('.', '\\.')}[^>]*-->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(
    readme,
  );
  assert.ok(m, `README.md has the example ${name}`);
  return m[1]!;
}

test(
  'a quick run of 02 with --set k=50 says so in its report, and its figures render',
  { timeout: 10 * 60_000 },
  async () => {
    run(
      process.execPath,
      [
        join(root, 'scripts', 'run-notebooks.mjs'),
        '--quick',
        '--no-build',
        '--allow-modified',
        '--out',
        reports,
        '--set',
        'k=50',
        '02',
      ],
      { cwd: root },
    );
    const r = readResults('02-calibrate', { dir: reports });
    assert.equal(r.parameters.k, 50);
    assert.equal(r.quick, true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${join(reports, '02-calibrate.html')}`, { waitUntil: 'load' });
      assert.equal(await page.title(), '02-calibrate');
      const banner = (await page.locator('.dknn-banner').first().textContent()) ?? '';
      assert.match(banner, /Quick mode/);
      assert.match(banner, /k\s*50\s*75\s*DKNN_K/, 'the override, its default and what set it');
      assert.match(
        (await page.locator('text=/The results below use k = \\d+/').first().textContent()) ?? '',
        /k = 50 /,
      );
      const figures = await page.locator('.dknn-figure').count();
      await page.waitForFunction((n) => document.querySelectorAll('.dknn-figure .main-svg').length >= n, figures, {
        timeout: 30_000,
      });
      assert.equal(await page.locator('.output_error').count(), 0, 'no cell failed');
      const index = readFileSync(join(reports, 'index.html'), 'utf8');
      assert.match(index, /k=50 \(notebook: 75\)/, 'the index says what the run changed');
    } finally {
      await browser.close();
    }
  },
);

test(
  'the package installs in an empty folder and runs the README example, from .ts, .mts and a notebook',
  { timeout: 10 * 60_000 },
  () => {
    const pack = run(process.execPath, [join(root, 'scripts', 'package.mjs'), '--out', home], { cwd: root });
    const tgz = pack.stdout.trim().split('\n').at(-1)!;
    run('npm', ['init', '-y'], { cwd: home });
    run('npm', ['install', '--onnxruntime-node-install=skip', '--prefer-offline', '--no-audit', '--no-fund', tgz], {
      cwd: home,
    });

    const example = readmeExample('my-model.ts');
    writeFileSync(join(home, 'my-model.ts'), example);
    writeFileSync(join(home, 'my-model.mts'), example);
    for (const script of ['my-model.ts', 'my-model.mts']) {
      const r = run(bin('tsx'), [script], { cwd: home, env: { DKNN_DATA_DIR: '', DKNN_CACHE_DIR: '' } });
      assert.match(
        r.stderr,
        /last layer probs applies a softmax; dknn-ts uses its input as the logits/,
        `${script}: said once`,
      );
      assert.doesNotMatch(r.stderr, /Error|not yet been initialized/, `${script}: no error`);
      assert.match(r.stdout, /dk\.show: not in a notebook kernel/, `${script}: show() says where its output goes`);
      const row = /my model \| (\d+) \| ([\d.]+) \| ([\d.]+) \|/.exec(r.stdout);
      assert.ok(row, `${script}: the summary table is printed:\n${r.stdout}`);
      assert.equal(row[1], '1000', `${script}: 1,000 evaluated images`);
      assert.ok(Number(row[3]) > 0.8, `${script}: the DkNN classifies most digits (${row[3]})`);
    }

    // Strict type-checking of the example against the installed package's types.
    writeFileSync(
      join(home, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['my-model.ts', 'my-model.mts'],
      }),
    );
    run(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: home });

    // One softmax, not two: the DkNN's DNN confidence is the model's own probability.
    writeFileSync(
      join(home, 'check.mts'),
      [
        "import * as dk from 'dknn-ts';",
        'const tf = dk.tf;',
        "const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10, activation: 'softmax', name: 'probs' })] });",
        'const { train, test } = await dk.data.loadMnist();',
        "const dknn = new dk.DkNN(model, { layers: ['probs'], k: 5, onWarning: () => {} });",
        'await dknn.fit(dk.subset(train, { end: 300 }));',
        'await dknn.calibrate(dk.subset(test, { end: 50 }));',
        'const x = dk.subset(test, { start: 50, end: 60 });',
        'const pred = await dknn.predict(x);',
        'const own = (model.predict(tf.tensor4d(x.images, [10, 28, 28, 1])) as any).max(1).dataSync();',
        'console.log(JSON.stringify({ dknn: Array.from(pred.dnnConfidence), own: Array.from(own) }));',
      ].join('\n'),
    );
    const check = JSON.parse(run(bin('tsx'), ['check.mts'], { cwd: home }).stdout.trim().split('\n').at(-1)!);
    check.own.forEach((p: number, i: number) =>
      assert.ok(Math.abs(p - check.dknn[i]) < 1e-5, `input ${i}: ${check.dknn[i]} vs the model's ${p}`),
    );

    // A tslab notebook in that folder.
    const cell = (source: string) => ({ cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source });
    writeFileSync(
      join(home, 'mine.ipynb'),
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
        cells: [
          cell("import * as dk from 'dknn-ts';\nconst backend = await dk.initBackend();"),
          cell(
            "dk.show(dk.table([{ backend: backend.name }], { caption: 'engine' }));\ndk.show({ data: [{ type: 'bar', y: [1, 2] }], layout: {} });",
          ),
        ],
      }),
    );
    run('jupyter-nbconvert', ['--to', 'notebook', '--execute', '--output', 'mine.out.ipynb', 'mine.ipynb'], {
      cwd: home,
      env: { JUPYTER_PATH: join(root, 'jupyter'), PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` },
    });
    const outputs = (
      JSON.parse(readFileSync(join(home, 'mine.out.ipynb'), 'utf8')) as {
        cells: { outputs: { output_type: string; data?: Record<string, string | string[]> }[] }[];
      }
    ).cells.flatMap((c) => c.outputs);
    assert.deepEqual(
      outputs.filter((o) => o.output_type === 'error'),
      [],
      'no cell failed',
    );
    const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
    const htmls = outputs.map((o) => text(o.data?.['text/html'])).join('\n');
    assert.ok(/<caption[^>]*><b>engine<\/b><\/caption>/.test(htmls), 'the table is displayed in the notebook');
    assert.ok(htmls.includes('class="dknn-figure"'), 'the figure is displayed in the notebook');
  },
);
