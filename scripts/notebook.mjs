#!/usr/bin/env node
// Starts the classic Jupyter front end (Debian's jupyter-notebook, installed by scripts/setup.sh)
// on the committed tslab kernelspec, bound to localhost with a random token, and prints the URL.
// You work on copies: the notebooks are copied into work/ (git-ignored) the first time, so edits,
// outputs and autosaves never touch the committed notebooks/; reports written by `finish` go to
// work/dknn-results/. See --help.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';

const HELP = `npm run notebook [-- options]

Opens the notebooks in the classic Jupyter front end (tslab kernel) on http://127.0.0.1.
You work on copies in work/ (made from notebooks/ the first time): your edits and outputs stay
there, the committed notebooks do not change, and reports written from a session go to
work/dknn-results/ (not reports/).

Options:
  --quick        small runs (DKNN_QUICK=1 for the kernels): each notebook in a minute or two
  --port N       listen on port N (default: a free port)
  --work DIR     keep the copies in DIR, a folder inside the repository (default work/)
  --fresh        copy the committed notebooks over the copies in work/ again (discards your edits)
  --help         this text
`;

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const fail = (msg) => {
  console.error(`npm run notebook: ${msg}`);
  process.exit(2);
};
const known = new Set(['--quick', '--port', '--work', '--fresh', '--help', '-h']);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port' || args[i] === '--work') i++;
  else if (!known.has(args[i]))
    fail(`unknown option ${JSON.stringify(args[i])}; expected one of --quick, --port N, --work DIR, --fresh, --help`);
}
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}

function listen(port) {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(port, '127.0.0.1', () => {
      const { port: p } = s.address();
      s.close(() => res(p));
    });
  });
}

const portIdx = args.indexOf('--port');
let port;
if (portIdx >= 0) {
  port = Number(args[portIdx + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(`--port must be an integer in 1…65535, found ${JSON.stringify(args[portIdx + 1] ?? null)}`);
  try {
    await listen(port);
  } catch (e) {
    fail(
      `port ${port} is not free (${e.code ?? e.message}); pick another with --port, or leave --port out for a free one`,
    );
  }
} else port = await listen(0);

/**
 * A working copy of a committed notebook, in nbformat 4.4 (without cell ids). The classic front
 * end does not give new cells an id, and the server adds random ones after signing the notebook on
 * save, so a 4.5 notebook saved with a new cell is no longer trusted and its figures stay blank
 * when it is opened again; 4.4 has no cell ids.
 */
function workingCopy(text) {
  const nb = JSON.parse(text);
  if (nb.nbformat === 4 && nb.nbformat_minor >= 5) {
    nb.nbformat_minor = 4;
    for (const cell of nb.cells) delete cell.id;
  }
  return `${JSON.stringify(nb, null, 1)}\n`;
}

// The working copies.
const workIdx = args.indexOf('--work');
const work = resolve(workIdx >= 0 ? (args[workIdx + 1] ?? fail('--work needs a folder')) : join(root, 'work'));
const fromRoot = relative(root, work);
if (fromRoot === '' || fromRoot.startsWith('..') || isAbsolute(fromRoot))
  fail(`--work must be a folder inside the repository (${root}), found ${work}`);
mkdirSync(work, { recursive: true });
const fresh = args.includes('--fresh');
const copied = [];
for (const f of readdirSync(join(root, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort()) {
  if (fresh || !existsSync(join(work, f))) {
    writeFileSync(join(work, f), workingCopy(readFileSync(join(root, 'notebooks', f), 'utf8')));
    copied.push(f);
  }
}

// The copies are signed as trusted (they are the committed notebooks, without outputs), so the
// front end runs the figures' scripts when a saved copy is opened again.
if (copied.length) {
  const sign =
    'import nbformat, sys\nfrom nbformat.sign import NotebookNotary\nn = NotebookNotary()\n' +
    'for f in sys.argv[1:]: n.sign(nbformat.read(f, 4))';
  const trust = spawnSync('/usr/bin/python3', ['-c', sign, ...copied.map((f) => join(work, f))], { encoding: 'utf8' });
  if (trust.status !== 0)
    console.error(
      `npm run notebook: could not mark the copies trusted (${trust.error?.message ?? trust.stderr.trim()}); figures in saved copies may need File > Trust Notebook`,
    );
}

const token = randomBytes(24).toString('hex');
const env = {
  ...process.env,
  JUPYTER_PATH: join(root, 'jupyter'),
  PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
  DKNN_REPORT_DIR: process.env.DKNN_REPORT_DIR ?? join(work, 'dknn-results'),
  ...(args.includes('--quick') ? { DKNN_QUICK: '1' } : {}),
};
const jupyter = process.env.JUPYTER_NOTEBOOK ?? 'jupyter-notebook';
// The server's root is the repository (so the front end can fetch plotly.js from node_modules/
// when a page lacks it); the browser opens on work/.
const child = spawn(
  jupyter,
  [
    '--no-browser',
    '--ip=127.0.0.1',
    `--port=${port}`,
    '--port-retries=0',
    `--NotebookApp.token=${token}`,
    `--notebook-dir=${root}`,
    '--NotebookApp.open_browser=False',
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ],
  { env, stdio: ['ignore', 'inherit', 'inherit'] },
);
let exited = false;
child.on('error', (e) => {
  console.error(
    `npm run notebook: cannot start ${jupyter} (${e.message}); install it with: sudo apt-get install jupyter-notebook (scripts/setup.sh does)`,
  );
  process.exit(1);
});
child.on('exit', (code, signal) => {
  exited = true;
  process.exit(code ?? (signal ? 1 : 0));
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill('SIGTERM'));

// Announce the URL once the server answers.
const base = `http://127.0.0.1:${port}`;
let up = false;
for (let i = 0; i < 600 && !exited && !up; i++) {
  try {
    up = (await fetch(`${base}/api/status?token=${token}`)).ok;
  } catch {
    // not listening yet
  }
  if (!up) await new Promise((res) => setTimeout(res, 100));
}
if (!up) {
  console.error(`npm run notebook: ${jupyter} did not answer on ${base} within 60 s; its messages are above`);
  child.kill('SIGTERM');
  process.exit(1);
}
console.log(
  `\nJupyter (tslab kernel, dknn-ts${env.DKNN_QUICK === '1' ? ', quick mode' : ''}) on ${base}/tree/${fromRoot.split('/').map(encodeURIComponent).join('/')}?token=${token}\n` +
    `Working copies in ${fromRoot}/${copied.length ? ` (copied now: ${copied.join(', ')})` : ''}; ` +
    `the committed notebooks/ stay as they are (--fresh copies them again).\n` +
    `Reports from finish() go to ${env.DKNN_REPORT_DIR}.\n` +
    `Open that URL in a browser; stop the server with Ctrl-C.\n`,
);
