/**
 * `npm run reproduce` as a person uses it: --help prints the usage and runs nothing, a bad option or
 * an unwritable --out is refused at once, and Ctrl-C (SIGINT) stops the running notebook, its
 * tslab kernel included, leaving no process and no partial file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const script = join(root, 'scripts', 'run-notebooks.mjs');

/** Every process below `pid`, with its command line. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        // gone meanwhile
      }
      out.push({ pid: c, cmd });
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Whether `pid` runs: a zombie (dead, waiting to be reaped: under a PID 1 that reaps nothing, it stays) does not. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

test('reproduce --help prints the usage and runs nothing; bad options and unwritable folders are refused at once', () => {
  const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: npm run reproduce -- \[options\]/);
  assert.match(help.stdout, /--quick/);
  const bad = spawnSync(process.execPath, [script, '--colour'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^reproduce: unknown option --colour\n\nUsage:/);
  for (const [out, why] of [['/proc/x', 'ENOENT'], ['/etc/passwd/rep', 'ENOTDIR']]) {
    const r = spawnSync(process.execPath, [script, '--quick', '--no-build', '--out', out], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, `--out ${out}`);
    assert.equal(r.stderr.trim(), `reproduce: cannot write reports into ${out}: ${why}; pass --out DIR with a folder you can write`);
  }
});

test('Ctrl-C during a run stops jupyter and its tslab kernel, and leaves no partial file', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dknn-reproduce-'));
  try {
    const child = spawn(process.execPath, [script, '--quick', '--no-build', '--out', out, '03-attacks'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let tree: { pid: number; cmd: string }[] = [];
    for (let i = 0; i < 600 && !tree.some((p) => /tslab kernel/.test(p.cmd)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      tree = descendants(child.pid!);
    }
    assert.ok(tree.some((p) => /tslab kernel/.test(p.cmd)), `a tslab kernel started below the run: ${JSON.stringify(tree)}`);
    await new Promise((r) => setTimeout(r, 3000)); // the kernel is busy with the notebook
    const code = await new Promise<number | null>((res) => {
      child.once('exit', (c) => res(c));
      child.kill('SIGINT');
    });
    assert.equal(code, 130, stderr);
    assert.match(stderr, /reproduce: SIGINT: stopping the running notebook and its kernel/);
    await new Promise((r) => setTimeout(r, 500));
    const left = tree.filter((p) => alive(p.pid));
    assert.deepEqual(left, [], 'no process of the run is left');
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('partial')), [], 'no partial file is left');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
