#!/usr/bin/env node
// Executes the notebooks headless on the tslab kernel and writes self-contained HTML reports.
//   node scripts/run-notebooks.mjs [--full | --quick] [--out DIR] [--set name=value ...] [name-filter ...]
// --set overrides a parameter of every notebook that has it (as DKNN_<NAME>, recorded in each
// report's provenance), e.g. --set k=50 --set layers=ReLU3,logits. After the runs, DIR/index.html
// lists every report in DIR with its date, commit, parameters, headline numbers and run time.
// --quick (default) sets DKNN_QUICK=1: every notebook runs on small subsets (CI, `npm test`).
// --full runs them at full size (`npm run reproduce`). Reports go to reports/ (or --out DIR):
// NAME.ipynb (executed) and NAME.html; each is written to a temp name and renamed when complete.
// On a failing cell, the cell's stderr (where tslab puts the real message) is printed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const full = args.includes('--full');
const outIdx = args.indexOf('--out');
const outDir = resolve(outIdx >= 0 ? args[outIdx + 1] : join(root, 'reports'));
const filters = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out' && args[i - 1] !== '--set');
const sets = {};
args.forEach((a, i) => {
  if (a !== '--set') return;
  const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(args[i + 1] ?? '');
  if (!m) {
    console.error(
      `run-notebooks: --set expects name=value with a camelCase parameter name, found ${JSON.stringify(args[i + 1] ?? '')}`,
    );
    process.exit(2);
  }
  sets[`DKNN_${m[1].replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`] = m[2];
});
const notebooks = readdirSync(join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb') && (filters.length === 0 || filters.some((s) => f.includes(s))))
  .sort();
if (notebooks.length === 0) {
  console.error('run-notebooks: no notebook matched');
  process.exit(1);
}
const jupyter = process.env.JUPYTER ?? 'jupyter';
const env = {
  ...process.env,
  JUPYTER_PATH: join(root, 'jupyter'),
  PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
  DKNN_QUICK: full ? '0' : (process.env.DKNN_QUICK ?? '1'),
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
  DKNN_REPORT_DIR: outDir,
  ...sets,
};
mkdirSync(outDir, { recursive: true });

function run(argv) {
  const r = spawnSync(jupyter, argv, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function cellErrors(path) {
  if (!existsSync(path)) return '';
  const nb = JSON.parse(readFileSync(path, 'utf8'));
  const msgs = [];
  nb.cells.forEach((c, i) => {
    for (const o of c.outputs ?? []) {
      if (o.output_type === 'stream' && o.name === 'stderr')
        msgs.push(`cell ${i} stderr:\n${[].concat(o.text).join('')}`);
      if (o.output_type === 'error')
        msgs.push(`cell ${i} error: ${o.ename}: ${o.evalue}\n${(o.traceback ?? []).join('\n')}`);
    }
  });
  return msgs.join('\n');
}

let failed = 0;
const ran = {};
for (const file of notebooks) {
  const name = file.replace(/\.ipynb$/, '');
  const t0 = Date.now();
  const tmpName = `${name}.partial`;
  const exec = run([
    'nbconvert',
    '--to',
    'notebook',
    '--execute',
    '--allow-errors',
    '--ExecutePreprocessor.timeout=-1',
    '--ExecutePreprocessor.kernel_name=tslab',
    '--output-dir',
    outDir,
    '--output',
    tmpName,
    join('notebooks', file),
  ]);
  const executed = join(outDir, `${tmpName}.ipynb`);
  const errors = cellErrors(executed);
  // tslab reports compile and runtime errors on the cell's stderr (nbconvert's traceback is empty),
  // so a notebook fails on any error output or any stderr output: notebooks must not write to stderr.
  const hasError = errors.length > 0;
  if (!exec.ok || hasError) {
    failed++;
    console.error(
      `✗ ${file} failed after ${((Date.now() - t0) / 1000).toFixed(1)} s\n${exec.out.split('\n').slice(-15).join('\n')}\n${errors}`,
    );
    rmSync(executed, { force: true });
    continue;
  }
  const html = run([
    'nbconvert',
    '--to',
    'html',
    '--template',
    'dknn',
    '--output-dir',
    outDir,
    '--output',
    tmpName,
    executed,
  ]);
  if (!html.ok) {
    failed++;
    console.error(`✗ ${file}: HTML export failed\n${html.out}`);
    continue;
  }
  renameSync(executed, join(outDir, `${name}.ipynb`));
  renameSync(join(outDir, `${tmpName}.html`), join(outDir, `${name}.html`));
  ran[name] = (Date.now() - t0) / 1000;
  console.log(
    `✓ ${file} → ${join(outDir, `${name}.html`)} (${((Date.now() - t0) / 1000).toFixed(1)} s, ${full ? 'full' : 'quick'} mode)`,
  );
}
await writeIndex();
process.exit(failed ? 1 : 0);

/** reports/index.html over every report in outDir (run now or before). */
async function writeIndex() {
  const { reportIndexHtml } = await import(join(root, 'lib', 'dist', 'report', 'index-page.js'));
  const { writeFileAtomic } = await import(join(root, 'lib', 'dist', 'artifacts', 'atomic.js'));
  const names = readdirSync(outDir)
    .filter((f) => f.endsWith('.html') && f !== 'index.html' && !f.includes('.partial'))
    .map((f) => f.replace(/\.html$/, ''))
    .sort();
  const failedNow = new Set(notebooks.map((f) => f.replace(/\.ipynb$/, '')).filter((n) => !(n in ran)));
  const entries = names.map((name) => {
    const path = join(outDir, `${name}.results.json`);
    const results = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null;
    const recorded = results ? results.provenance.stages.reduce((t, st) => t + st.seconds, 0) : null;
    return {
      notebook: name,
      href: `${name}.html`,
      results,
      seconds: ran[name] ?? recorded,
      status: failedNow.has(name) ? 'failed' : 'ok',
    };
  });
  writeFileAtomic(
    join(outDir, 'index.html'),
    reportIndexHtml(entries, { title: `dknn-ts reports (${full ? 'full size' : 'quick mode'})` }),
  );
  console.log(`index: ${join(outDir, 'index.html')}`);
}
