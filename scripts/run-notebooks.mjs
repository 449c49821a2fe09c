#!/usr/bin/env node
// `npm run reproduce`: executes the notebooks headless on the tslab kernel and writes self-contained
// HTML reports. Run with --help for the options. Each notebook runs in its own jupyter process group:
// Ctrl-C (SIGINT) or SIGTERM stops it, kernel included, and removes its partial files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const root = resolve(new URL('..', import.meta.url).pathname);
const USAGE = `Usage: npm run reproduce -- [options] [notebook ...]
Executes notebooks/*.ipynb (all, or those whose name contains a given word) on the tslab kernel
and writes DIR/<notebook>.html (self-contained), the executed .ipynb, <notebook>.results.json and
the per-input CSVs, then DIR/index.html listing every report.
  --quick               the small runs of the tests (also DKNN_QUICK=1); default: full size
  --full                full size, even when DKNN_QUICK=1 is set
  --set name=value      override a notebook parameter (camelCase name), e.g. --set k=50
                        --set layers=ReLU3,logits; recorded in each report (repeatable)
  --out DIR             where the reports go (default: reports/)
  --no-build            skip \`npm run build\` (the lib is built already)
  --verify              then compare every number with the committed expected results
                        (expected/quick or expected/full; scripts/verify.mjs); exit 1 on a
                        mismatch, and the index shows ✓ or ✗ per notebook
  --verbose             stack traces with errors (also DKNN_DEBUG=1)
  --allow-modified      run notebooks that differ from the committed ones (their diff's
                        sha256 is recorded in each report); refused otherwise
  -h, --help            this text
Before a full run the expected time of each notebook is printed, from the last full run recorded.`;

/** The command line, checked: unknown options and missing values are refused with the usage. */
function parseArgs(argv) {
  const o = {
    quick: null,
    out: join(root, 'reports'),
    sets: {},
    filters: [],
    allowModified: false,
    help: false,
    build: true,
    verbose: false,
    verify: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') o.help = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--full') o.quick = false;
    else if (a === '--allow-modified') o.allowModified = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--verify') o.verify = true;
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--set') {
      const raw = value();
      const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(raw);
      if (!m) fail(`--set expects name=value with a camelCase parameter name, found ${JSON.stringify(raw)}`);
      o.sets[m[1]] = m[2];
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else o.filters.push(a);
  }
  if (o.quick === null) o.quick = process.env.DKNN_QUICK === '1' || process.env.DKNN_QUICK === 'true';
  return o;
}

function fail(message) {
  console.error(`reproduce: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const envName = (key) => `DKNN_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
const notebooks = readdirSync(join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb') && (opts.filters.length === 0 || opts.filters.some((s) => f.includes(s))))
  .sort();
if (notebooks.length === 0) fail(`no notebook matched ${opts.filters.join(', ')}`);
checkSetNames(notebooks, opts.sets);
checkOutDir(opts.out);
const diffs = checkModified(notebooks);
const mode = opts.quick ? 'quick mode' : 'full size';
const env = {
  ...process.env,
  JUPYTER_PATH: join(root, 'jupyter'),
  PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
  DKNN_QUICK: opts.quick ? '1' : '0',
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
  DKNN_REPORT_DIR: opts.out,
  ...Object.fromEntries(Object.entries(opts.sets).map(([k, v]) => [envName(k), v])),
};
if (!opts.quick) printEstimate(notebooks);
if (opts.build) {
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) fail('npm run build failed');
}

/**
 * The report folder exists (or is created, one level at a time: Node's recursive mkdir loops on
 * /proc) and a file can be written in it; refused at once otherwise, naming the folder.
 */
function checkOutDir(dir) {
  const missing = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.unshift(at);
    at = dirname(at);
  }
  try {
    if (!statSync(at).isDirectory()) throw Object.assign(new Error(`${at} is not a folder`), { code: 'ENOTDIR' });
    for (const d of missing) mkdirSync(d);
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    console.error(
      `reproduce: cannot write reports into ${dir}: ${e.code ?? e.message}; pass --out DIR with a folder you can write`,
    );
    process.exit(2);
  }
}

/**
 * The names a notebook's parameters cell declares: the keys of the first object given to
 * `dk.parameters(`, read from its source (one `name:` per line, as every notebook writes them).
 */
function declaredParameters(file) {
  const nb = JSON.parse(readFileSync(join(root, 'notebooks', file), 'utf8'));
  const cell = nb.cells.map((c) => [].concat(c.source).join('')).find((s) => s.includes('dk.parameters('));
  if (!cell) return new Set();
  const body = cell.slice(cell.indexOf('dk.parameters('));
  const start = body.indexOf('{');
  let depth = 0;
  let end = start;
  for (; end < body.length; end++) {
    if (body[end] === '{' || body[end] === '[') depth++;
    else if (body[end] === '}' || body[end] === ']') depth--;
    if (depth === 0) break;
  }
  const names = [...body.slice(start, end).matchAll(/^\s{4}([A-Za-z]\w*)\s*:/gm)].map((m) => m[1]);
  return new Set(names);
}

/** Every --set name is a parameter of at least one notebook of the run; refused at once otherwise, with the names there are. */
function checkSetNames(files, sets) {
  const declared = files.map((f) => [f, declaredParameters(f)]);
  for (const [name, value] of Object.entries(sets)) {
    if (value === '')
      fail(`--set ${name}= gives no value; write --set ${name}=VALUE, or leave it out to keep the default`);
    if (declared.some(([, names]) => names.has(name))) continue;
    const all = [...new Set(declared.flatMap(([, names]) => [...names]))].sort();
    fail(
      `--set ${name}: no notebook of this run (${files.join(', ')}) has a parameter ${JSON.stringify(name)}; their parameters are: ${all.join(', ')}`,
    );
  }
}

/** Notebooks that differ from the committed ones: refused, unless --allow-modified (then each diff's sha256). */
function checkModified(files) {
  const out = {};
  for (const f of files) {
    const r = spawnSync('git', ['diff', 'HEAD', '--', join('notebooks', f)], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0 || r.stdout === '') continue;
    if (!opts.allowModified)
      fail(
        `notebooks/${f} differs from the committed one (git diff); commit it, restore it (git checkout -- notebooks/${f}), or pass --allow-modified`,
      );
    out[f] = createHash('sha256').update(r.stdout).digest('hex');
  }
  return out;
}

/** `<dir>/timings.json`: each notebook's last run in that folder, per mode (quick, full). */
function readTimings(dir) {
  const path = join(dir, 'timings.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { quick: {}, full: {} };
}

/** Seconds of each notebook's last full run: in this --out folder, else the recorded one (results/timings.json). */
function lastFullRun(name) {
  for (const [dir, label] of [
    [opts.out, opts.out],
    [join(root, 'results'), 'results/timings.json'],
  ]) {
    const t = readTimings(dir).full[name];
    if (t) return { seconds: t.seconds, source: `${label}, ${t.finishedAt.slice(0, 10)}` };
  }
  return null;
}

/** Records a notebook's wall time in `<out>/timings.json`. */
async function recordTiming(name, seconds) {
  const { writeFileAtomic } = await import(join(root, 'lib', 'dist', 'artifacts', 'atomic.js'));
  const t = readTimings(opts.out);
  t[opts.quick ? 'quick' : 'full'][name] = {
    seconds: Number(seconds.toFixed(1)),
    finishedAt: new Date().toISOString(),
  };
  writeFileAtomic(join(opts.out, 'timings.json'), `${JSON.stringify(t, null, 1)}\n`);
}

function printEstimate(files) {
  const fmt = (s) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);
  let total = 0;
  let unknown = 0;
  const lines = files.map((f) => {
    const name = f.replace(/\.ipynb$/, '');
    const last = lastFullRun(name);
    if (!last) {
      unknown++;
      return `  ${name}: no full run recorded`;
    }
    total += last.seconds;
    return `  ${name}: ~${fmt(last.seconds)} (last full run: ${last.source})`;
  });
  console.log(
    `Full-size run of ${files.length} notebook(s); expected time, from the last full runs recorded:\n${lines.join('\n')}`,
  );
  console.log(
    `  total: ~${fmt(total)}${unknown ? ` plus ${unknown} notebook(s) never timed` : ''}. Ctrl-C stops cleanly; --quick runs the small versions.\n`,
  );
}

/** The running jupyter process group, so a signal can stop it, kernel included. */
let current = null;
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\nreproduce: ${sig}: stopping the running notebook and its kernel`);
    stopCurrent().then(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

/** Every process below `pid` (Linux /proc), children first found first. */
function descendants(pid) {
  const parent = new Map();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Whether `pid` runs: a zombie (dead, waiting to be reaped: under a PID 1 that reaps nothing, it stays) does not. */
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/**
 * Stops the running notebook: jupyter gets SIGINT (nbclient then shuts its kernel down), and
 * after 5 s everything still alive below it, the kernel included (it runs in a session of its own),
 * gets SIGKILL. Its partial files are removed.
 */
async function stopCurrent() {
  if (!current) return;
  const { child, partial } = current;
  const tree = [child.pid, ...descendants(child.pid)];
  try {
    process.kill(-child.pid, 'SIGINT');
  } catch {
    // already gone
  }
  for (let i = 0; i < 50 && tree.some(alive); i++) await new Promise((res) => setTimeout(res, 100));
  for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(partial, { recursive: true, force: true });
}

/** Runs jupyter in its own process group (so that its kernel can be stopped with it). */
function run(argv, partial) {
  return new Promise((res) => {
    const child = spawn(process.env.JUPYTER ?? 'jupyter', argv, {
      cwd: root,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = { child, partial };
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => (out += String(e)));
    child.on('close', (code) => {
      current = null;
      res({ ok: code === 0, out });
    });
  });
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

/** Executes one notebook into a private partial folder, exports it, and moves both into place when complete. */
async function runNotebook(file) {
  const name = file.replace(/\.ipynb$/, '');
  const t0 = Date.now();
  const partial = join(opts.out, `.partial-${name}-${process.pid}`);
  mkdirSync(partial, { recursive: true });
  try {
    return await runNotebookIn(file, name, partial, t0);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** {@link runNotebook}'s steps, in the private folder `partial` (removed by the caller, whatever happens). */
async function runNotebookIn(file, name, partial, t0) {
  if (diffs[file]) env.DKNN_NOTEBOOK_DIFF = `notebooks/${file} modified, diff sha256 ${diffs[file]}`;
  else delete env.DKNN_NOTEBOOK_DIFF;
  const executed = join(partial, `${name}.ipynb`);
  const exec = await run(
    [
      ...['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=-1'],
      ...[
        '--ExecutePreprocessor.kernel_name=tslab',
        '--output-dir',
        partial,
        '--output',
        name,
        join('notebooks', file),
      ],
    ],
    partial,
  );
  const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
  // tslab reports compile and runtime errors on the cell's stderr (nbconvert's traceback is empty),
  // so a notebook fails on any error output or any stderr output: notebooks must not write to stderr.
  const errors = cellErrors(executed);
  if (!exec.ok || errors.length > 0) {
    console.error(`✗ ${file} failed after ${seconds()} s\n${exec.out.split('\n').slice(-15).join('\n')}\n${errors}`);
    return null;
  }
  const html = await run(
    ['nbconvert', '--to', 'html', '--template', 'dknn', '--output-dir', partial, '--output', name, executed],
    partial,
  );
  if (!html.ok) {
    console.error(`✗ ${file}: HTML export failed\n${html.out}`);
    return null;
  }
  renameSync(executed, join(opts.out, `${name}.ipynb`));
  renameSync(join(partial, `${name}.html`), join(opts.out, `${name}.html`));
  console.log(`✓ ${file} → ${join(opts.out, `${name}.html`)} (${seconds()} s, ${mode})`);
  await recordTiming(name, (Date.now() - t0) / 1000);
  return (Date.now() - t0) / 1000;
}

const ran = {};
let failed = 0;
try {
  for (const file of notebooks) {
    if (stopping) break;
    const s = await runNotebook(file);
    if (s === null) failed++;
    else ran[file.replace(/\.ipynb$/, '')] = s;
  }
  if (!stopping) {
    const mismatch = verifyRun();
    await writeIndex();
    process.exit(failed || mismatch ? 1 : 0);
  }
} catch (e) {
  // A write into --out that failed during the run (disk full, folder removed): the message names
  // the path (Node's and the lib's file errors do); the stack trace only with --verbose or DKNN_DEBUG=1.
  await stopCurrent();
  const debug = opts.verbose || process.env.DKNN_DEBUG === '1' || process.env.DKNN_DEBUG === 'true';
  console.error(`reproduce: ${debug ? e.stack : e.message}`);
  process.exit(1);
}

/**
 * With --verify: scripts/verify.mjs over the notebooks run now (it prints the table and writes
 * verify.json); returns whether anything differed. Without it, an older verify.json is removed,
 * since the results it checked were just replaced.
 */
function verifyRun() {
  const names = Object.keys(ran);
  const file = join(opts.out, 'verify.json');
  if (!opts.verify) {
    if (names.length > 0) rmSync(file, { force: true });
    return false;
  }
  if (names.length === 0) return false;
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'verify.mjs'), '--dir', opts.out, ...names], {
    cwd: root,
    stdio: 'inherit',
  });
  return r.status !== 0;
}

/** reports/index.html over every report in the folder (run now or before). */
async function writeIndex() {
  const { reportIndexHtml } = await import(join(root, 'lib', 'dist', 'report', 'index-page.js'));
  const { readResultsFile } = await import(join(root, 'lib', 'dist', 'report', 'results.js'));
  const { writeFileAtomic } = await import(join(root, 'lib', 'dist', 'artifacts', 'atomic.js'));
  const names = readdirSync(opts.out)
    .filter((f) => f.endsWith('.html') && f !== 'index.html')
    .map((f) => f.replace(/\.html$/, ''))
    .sort();
  const timings = readTimings(opts.out);
  const verifyFile = join(opts.out, 'verify.json');
  const verified = existsSync(verifyFile) ? JSON.parse(readFileSync(verifyFile, 'utf8')) : {};
  const failedNow = new Set(notebooks.map((f) => f.replace(/\.ipynb$/, '')).filter((n) => !(n in ran)));
  const entries = names.map((name) => {
    const path = join(opts.out, `${name}.results.json`);
    let results = null;
    try {
      results = existsSync(path) ? readResultsFile(path) : null;
    } catch (e) {
      console.error(`reproduce: ${e.message}; the index lists ${name} without its numbers`);
    }
    const timing = results ? timings[results.quick ? 'quick' : 'full'][name] : undefined;
    const recorded = timing ? timing.seconds : null;
    return {
      notebook: name,
      href: `${name}.html`,
      results,
      seconds: ran[name] ?? recorded,
      status: failedNow.has(name) ? 'failed' : 'ok',
      verified: verified[name] ?? null,
    };
  });
  writeFileAtomic(join(opts.out, 'index.html'), reportIndexHtml(entries, { title: 'dknn-ts reports' }));
  console.log(`index: ${join(opts.out, 'index.html')}`);
}
