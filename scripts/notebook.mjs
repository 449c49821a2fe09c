#!/usr/bin/env node
// Starts the classic Jupyter front end (Debian's jupyter-notebook, installed by scripts/setup.sh)
// on the committed tslab kernelspec, bound to localhost with a random token, and prints the URL.
//   npm run notebook [-- --port 8888] [--quick]
// --quick sets DKNN_QUICK=1 for the kernels (the small runs of the tests). Stop it with Ctrl-C.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const portIdx = args.indexOf('--port');

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const port = portIdx >= 0 ? Number(args[portIdx + 1]) : await freePort();
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`npm run notebook: --port must be an integer in 1…65535, found ${JSON.stringify(args[portIdx + 1])}`);
  process.exit(2);
}
const token = randomBytes(24).toString('hex');
const env = {
  ...process.env,
  JUPYTER_PATH: join(root, 'jupyter'),
  PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
  PYDEVD_DISABLE_FILE_VALIDATION: '1',
  ...(args.includes('--quick') ? { DKNN_QUICK: '1' } : {}),
};
const jupyter = process.env.JUPYTER_NOTEBOOK ?? 'jupyter-notebook';
const child = spawn(
  jupyter,
  [
    '--no-browser',
    '--ip=127.0.0.1',
    `--port=${port}`,
    '--port-retries=0',
    `--NotebookApp.token=${token}`,
    `--notebook-dir=${join(root, 'notebooks')}`,
    '--NotebookApp.open_browser=False',
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ],
  { env, stdio: ['ignore', 'inherit', 'inherit'] },
);
child.on('error', (e) => {
  console.error(
    `npm run notebook: cannot start ${jupyter} (${e.message}); install it with: sudo apt-get install jupyter-notebook (scripts/setup.sh does)`,
  );
  process.exit(1);
});
// Announce the URL once the server answers.
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 600; i++) {
  try {
    const r = await fetch(`${base}/api/status?token=${token}`);
    if (r.ok) break;
  } catch {
    // not listening yet
  }
  await new Promise((res) => setTimeout(res, 100));
}
console.log(
  `\nJupyter (tslab kernel, dknn-ts) on ${base}/tree?token=${token}\nOpen that URL in a browser; stop the server with Ctrl-C.\n`,
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
