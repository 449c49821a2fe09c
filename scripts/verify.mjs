#!/usr/bin/env node
// Compares a run's <notebook>.results.json files with the committed expected results, or records them.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const USAGE = `Usage: node scripts/verify.mjs [--dir DIR] [--record] [--all] [notebook ...]
Compares every DIR/<notebook>.results.json (default DIR: reports/) with
expected/<quick|full>/<notebook>.json (quick or full: as the run was), each value with the
tolerance written beside it, prints what did not match and one line per notebook, writes
DIR/verify.json (the report index shows it) and exits 1 on any mismatch.
  --record   write expected/<quick|full>/<notebook>.json from DIR's results instead
  --all      print every compared value, not only the mismatches
  -h, --help this text
\`npm run reproduce -- --verify\` runs this after the notebooks.`;

const root = resolve(new URL('..', import.meta.url).pathname);

function fail(message, code = 2) {
  console.error(`verify: ${message}`);
  process.exit(code);
}

function parse(argv) {
  const o = { dir: join(root, 'reports'), record: false, all: false, filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--dir') {
      if (i + 1 >= argv.length) fail('--dir needs a folder');
      o.dir = resolve(argv[++i]);
    } else if (a === '--record') o.record = true;
    else if (a === '--all') o.all = true;
    else if (a.startsWith('-')) fail(`unknown option ${a}\n\n${USAGE}`);
    else o.filters.push(a);
  }
  return o;
}

const opts = parse(process.argv.slice(2));
const lib = (p) => import(join(root, 'lib', 'dist', 'report', p));
const { readResultsFile } = await lib('results.js');
const { expectedFrom, verifyResults, verifyTable } = await lib('verify.js');
const { writeFileAtomic } = await import(join(root, 'lib', 'dist', 'artifacts', 'atomic.js'));

if (!existsSync(opts.dir)) fail(`no results folder ${opts.dir}; run the notebooks first (npm run reproduce)`);
const files = readdirSync(opts.dir)
  .filter((f) => f.endsWith('.results.json'))
  .filter((f) => opts.filters.length === 0 || opts.filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0)
  fail(`no <notebook>.results.json in ${opts.dir}${opts.filters.length ? ` matching ${opts.filters.join(', ')}` : ''}`);

const expectedPath = (run) => join(root, 'expected', run.quick ? 'quick' : 'full', `${run.notebook}.json`);

if (opts.record) {
  const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  for (const f of files) {
    const run = readResultsFile(join(opts.dir, f));
    const changed = run.parameters.changes;
    if (Array.isArray(changed) && changed.some((c) => c.setBy !== 'quick mode'))
      fail(
        `${f}: this run set parameters from outside (${changed.map((c) => c.name).join(', ')}); record from a run with the notebook's own values`,
      );
    const expected = expectedFrom(run, {
      commit: run.provenance?.commit ?? commit,
      date: run.provenance?.createdAt ?? '',
    });
    mkdirSync(join(root, 'expected', run.quick ? 'quick' : 'full'), { recursive: true });
    writeFileAtomic(expectedPath(run), `${JSON.stringify(expected, null, 1)}\n`);
    console.log(`recorded ${Object.keys(expected.values).length} values → ${expectedPath(run)}`);
  }
  process.exit(0);
}

const rows = [];
const summary = {};
for (const f of files) {
  const run = readResultsFile(join(opts.dir, f));
  const path = expectedPath(run);
  if (!existsSync(path)) {
    rows.push({
      notebook: run.notebook,
      what: 'expected results',
      expected: path,
      found: '(none)',
      tolerance: 'exact',
      ok: false,
    });
  } else {
    rows.push(...verifyResults(run, JSON.parse(readFileSync(path, 'utf8'))));
  }
  const mine = rows.filter((r) => r.notebook === run.notebook);
  summary[run.notebook] = {
    ok: mine.every((r) => r.ok),
    matched: mine.filter((r) => r.ok).length,
    total: mine.length,
    red: mine.filter((r) => !r.ok),
  };
}
console.log(verifyTable(rows, { all: opts.all }));
writeFileAtomic(join(opts.dir, 'verify.json'), `${JSON.stringify(summary, null, 1)}\n`);
const bad = Object.values(summary).filter((s) => !s.ok).length;
if (bad > 0)
  fail(
    `${bad} of ${files.length} notebooks differ from the expected results (${opts.dir}/verify.json lists the values)`,
    1,
  );
console.log(`verify: all ${files.length} notebooks as expected`);
