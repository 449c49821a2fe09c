/**
 * The command-line programs under the bad inputs of the issue-29 probe, run as the probe ran them
 * (the built CLIs, lib/dist/cli; `npm run build` first): an error is its message alone (the stack
 * trace with --verbose or DKNN_DEBUG=1), every option is checked before any work, Ctrl-C leaves no
 * temp file, and the notebook scripts refuse a busy port or an unwritable --out at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const cliPath = (name: string) => join(root, 'lib', 'dist', 'cli', `${name}.js`);
const tmp = mkdtempSync(join(tmpdir(), 'dknn-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A small run: 300 training images, 100 calibration, 60 evaluated (about a second). */
const TINY = ['--train-subset', '300', '--calib', '100', '--eval-end', '160', '--k', '5', '--no-cache'];
/** A line of a stack trace. */
const STACK = /^\s+at /m;

function cli(script: string, args: string[], env: Record<string, string> = {}, timeout = 120_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, DKNN_DEBUG: '', ...env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

/** Files below `dir` (recursively) whose name ends in .tmp. */
const tempFiles = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.tmp'))
    : [];

test('a CLI error prints its message alone; --verbose or DKNN_DEBUG=1 adds the stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['dknn', ['--k', 'abc'], /^dknn: --k must be a decimal integer ≥ 1, found "abc"\n$/],
    ['dknn', ['--out', '/proc/x.json'], /^dknn: cannot (write into|create) \/proc\S*: ENOENT\n$/],
    ['train', ['--epochs', 'x', '--out', join(tmp, 'm')], /^train: --epochs must be a non-negative decimal integer/],
    ['train', ['--subset', '0', '--out', join(tmp, 'm')], /^train: --subset 0 would train on no image/],
  ];
  for (const [name, args, message] of cases) {
    const plain = cli(cliPath(name), args);
    assert.equal(plain.status, 1, `${name} ${args.join(' ')}`);
    assert.match(plain.stderr, message);
    assert.doesNotMatch(plain.stderr, STACK, `${name} ${args.join(' ')}: no stack trace by default`);
    for (const [how, extra, env] of [
      ['--verbose', ['--verbose'], {}],
      ['DKNN_DEBUG=1', [], { DKNN_DEBUG: '1' }],
    ] as const) {
      const verbose = cli(cliPath(name), [...args, ...extra], env);
      assert.equal(verbose.status, 1);
      assert.match(verbose.stderr, STACK, `${name} ${args.join(' ')} with ${how}: the stack trace`);
    }
  }
  assert.match(cli(cliPath('dknn'), ['--help']).stdout, /--verbose +stack traces with errors \(also DKNN_DEBUG=1\)/);
});

test('an unexpected error (a TypeError from a bug) is named as such and says how to get its stack trace', () => {
  const args = join(root, 'lib', 'dist', 'cli', 'args.js');
  const run = (body: string, env: Record<string, string> = {}) =>
    cli('-e', [`require(${JSON.stringify(args)}).runCli('demo', async () => { ${body} })`], env);
  const bug = run('const o = JSON.parse("null"); return o.field.length;');
  assert.equal(bug.status, 1);
  assert.match(bug.stderr, /^demo: unexpected error, TypeError: Cannot read properties of null \(reading 'field'\)\n/);
  assert.match(bug.stderr, /\(run again with --verbose or DKNN_DEBUG=1 to see the stack trace\)\n$/);
  assert.doesNotMatch(bug.stderr, STACK);
  assert.match(run('const o = JSON.parse("null"); return o.field.length;', { DKNN_DEBUG: '1' }).stderr, STACK);
  const later = run("setTimeout(() => { throw new Error('failed later, in a callback'); }, 10);");
  assert.equal(later.status, 1, 'an error thrown outside main is reported too');
  assert.equal(later.stderr, 'demo: failed later, in a callback\n');
});

test('a negative number gets the range message, not "argument is ambiguous" (dknn --k -3, train --validation -0.2)', () => {
  const k = cli(cliPath('dknn'), ['--k', '-3']);
  assert.equal(k.status, 1);
  assert.match(k.stderr, /^dknn: --k must be a decimal integer ≥ 1, found "-3"\n$/);
  const eps = cli(cliPath('dknn'), ['--attack', 'fgsm', '--eps', '-0.1']);
  assert.match(eps.stderr, /^dknn: eps must be ≥ 0, found -0\.1\n$/);
  const seed = cli(cliPath('train'), ['--seed', '-1', '--out', join(tmp, 'm')]);
  assert.match(seed.stderr, /^train: --seed must be a non-negative decimal integer, found "-1"\n$/);
  const validation = cli(cliPath('train'), ['--validation', '-0.2', '--subset', '10', '--out', join(tmp, 'm')]);
  assert.equal(validation.status, 1);
  assert.doesNotMatch(validation.stderr, /ambiguous/);
  assert.match(validation.stderr, /validation\S* must be .*found -0\.2/i);
  assert.doesNotMatch(validation.stderr, STACK);
});

test('npm run dknn checks every option before any work: --attack-images 0, an --out folder, eval-end ≤ calib, k ≥ the database', () => {
  const folder = join(tmp, 'existing-folder');
  mkdirSync(folder, { recursive: true });
  const cases: [string[], RegExp][] = [
    [
      ['--attack', 'fgsm', '--attack-images', '0'],
      /^dknn: --attack-images must be a decimal integer ≥ 1, found "0"\n$/,
    ],
    [['--attack-images', '5'], /^dknn: --attack-images needs --attack fgsm, bim or cw/],
    [['--out', folder], new RegExp(`^dknn: --out ${folder} is a folder; expected the report's file path, e\\.g\\. `)],
    [['--calib', '160'], /^dknn: --eval-end must be greater than --calib 160 .*, found 160\n$/],
    [['--k', '300'], /^dknn: --k 300 needs more than k training images .*--train-subset 300\n$/],
    [['--workers', '0'], /^dknn: --workers \(auto or a count\) must be a decimal integer ≥ 1, found "0"\n$/],
    [['--train-subset', '70000'], /^dknn: --train-subset must be a decimal integer in 1…60000, found "70000"\n$/],
  ];
  for (const [args, message] of cases) {
    const r = cli(cliPath('dknn'), [...TINY, ...args]);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /engine backend|fit: /, `${args.join(' ')}: refused before the engine starts`);
  }
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file beside the --out folder',
  );
  assert.deepEqual(readdirSync(folder), []);
});

test('npm run dknn -- --workers 16 uses at most the machine’s cores, and says so', () => {
  const cores = availableParallelism();
  const asked = Math.max(16, cores + 1);
  const out = join(tmp, 'workers.json');
  const r = cli(cliPath('dknn'), [...TINY, '--workers', String(asked), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(
    r.stderr.includes(`--workers ${asked} exceeds the ${cores} cores of this machine: using ${cores}\n`),
    r.stderr,
  );
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).parameters.workers, cores);
});

test('Ctrl-C during npm run dknn, while the activation cache is being written, stops it and leaves no temp file', async () => {
  const cache = join(tmp, 'sigint-cache');
  const out = join(tmp, 'sigint-out');
  mkdirSync(out, { recursive: true });
  // 2,000 training images: the first layer's cache entry is ~100 MB, long enough to catch its temp file.
  const args = ['--train-subset', '2000', '--calib', '100', '--eval-end', '200', '--k', '5'];
  const child = spawn(
    process.execPath,
    [cliPath('dknn'), ...args, '--cache-dir', cache, '--out', join(out, 'r.json')],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  let seen: string[] = [];
  const t0 = Date.now();
  while (seen.length === 0 && child.exitCode === null && child.signalCode === null && Date.now() - t0 < 60_000) {
    seen = tempFiles(cache).filter((f) => !f.includes('write-probe'));
    if (seen.length === 0) await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(seen.length > 0, `a cache temp file was seen before the run ended: ${stderr}`);
  const t1 = Date.now();
  child.kill('SIGINT');
  const { code, signal } = await exited;
  assert.equal(signal, 'SIGINT', `ended by the signal (code ${code}): ${stderr}`);
  assert.ok(Date.now() - t1 < 10_000, `stopped within 10 s (${Date.now() - t1} ms)`);
  assert.deepEqual([...tempFiles(cache), ...tempFiles(out)], [], 'no temp file is left');
  assert.deepEqual(readdirSync(out), [], 'no report');
});

test('npm run notebook -- --port <a port in use> exits at once with a message, before starting Jupyter', async () => {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, host, res));
    const port = (server.address() as AddressInfo).port;
    const work = join(root, 'work', `.port-test-${process.pid}`);
    try {
      // Were the check gone, the wrapper would fail to start this Jupyter instead (exit 1, another message).
      const r = cli(join(root, 'scripts', 'notebook.mjs'), ['--port', String(port), '--work', work], {
        JUPYTER_NOTEBOOK: join(tmp, 'no-such-jupyter-notebook'),
      });
      assert.equal(r.status, 2, `${host}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `npm run notebook: port ${port} is not free (EADDRINUSE); pick another with --port, or leave --port out for a free one\n`,
      );
      assert.equal(r.stdout, '', 'no URL printed');
      assert.ok(r.seconds < 10, `at once (${r.seconds} s)`);
      assert.ok(!existsSync(work), 'nothing copied');
    } finally {
      server.close();
      rmSync(work, { recursive: true, force: true });
    }
  }
});

test('npm run reproduce: an unwritable --out is refused at once (the probe’s commands), a later write error names the path', () => {
  const script = join(root, 'scripts', 'run-notebooks.mjs');
  for (const [out, why] of [
    ['/proc/x', 'ENOENT'],
    ['/etc/passwd/rep', 'ENOTDIR'],
  ]) {
    const r = cli(script, ['--out', out], {}, 20_000);
    assert.equal(r.status, 2, `--out ${out}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      `reproduce: cannot write reports into ${out}: ${why}; pass --out DIR with a folder you can write\n`,
    );
    assert.ok(r.seconds < 10, `at once (${r.seconds} s)`);
  }
  // A stand-in for jupyter that writes what nbconvert would, and a folder where the report goes:
  // moving the report into place fails at the end of the run.
  const jupyter = join(tmp, 'fake-jupyter');
  writeFileSync(
    jupyter,
    `#!${process.execPath}
const a = process.argv.slice(2);
const dir = a[a.indexOf('--output-dir') + 1], name = a[a.indexOf('--output') + 1];
const html = a.includes('html');
require('node:fs').writeFileSync(require('node:path').join(dir, name + (html ? '.html' : '.ipynb')), html ? '<html></html>' : '{"cells": []}');
`,
  );
  chmodSync(jupyter, 0o755);
  const out = join(tmp, 'reproduce-out');
  mkdirSync(join(out, '01-train.html'), { recursive: true });
  const r = cli(script, ['--quick', '--no-build', '--allow-modified', '--out', out, '01-train'], { JUPYTER: jupyter });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^reproduce: .*${join(out, '01-train.html')}`, 'm'), 'the message names the path');
  assert.doesNotMatch(r.stderr, STACK);
  const verbose = cli(script, ['--quick', '--no-build', '--allow-modified', '--verbose', '--out', out, '01-train'], {
    JUPYTER: jupyter,
  });
  assert.match(verbose.stderr, STACK, 'the stack trace with --verbose');
  assert.deepEqual(
    readdirSync(out).filter((f) => f.includes('partial')),
    [],
    'no partial folder is left',
  );
});

const canMountTmpfs =
  spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs ${tmpdir()}`]).status === 0;

test(
  'npm run dknn -- --out on a full disk (a full 1 MiB tmpfs) is refused at the start, naming the path',
  { skip: canMountTmpfs ? false : 'needs unshare -rm to mount a tmpfs' },
  () => {
    const disk = join(tmp, 'full-tmpfs');
    mkdirSync(disk, { recursive: true });
    const out = join(disk, 'report.json');
    const run = [process.execPath, cliPath('dknn'), ...TINY, '--out', out].map((a) => `'${a}'`).join(' ');
    // Filled but for a few KiB: the probe file of the writability check still fits, the report would not.
    const fill = `head -c 1020000 /dev/zero > '${disk}/fill' 2>/dev/null; `;
    const r = spawnSync(
      'unshare',
      [
        '-rm',
        'sh',
        '-c',
        `mount -t tmpfs -o size=1m tmpfs '${disk}' && ${fill}${run}; echo "status $?"; ls -a '${disk}'`,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.match(r.stdout, /^status 1$/m, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^dknn: cannot write the report ${out}: \\d+ KiB free in ${disk}, it needs at least \\d+ KiB\\n$`),
    );
    assert.doesNotMatch(r.stderr, /engine backend|fit: /, 'refused before the engine starts');
    assert.deepEqual(r.stdout.trim().split('\n').slice(-3), ['.', '..', 'fill'], 'nothing written');
  },
);
