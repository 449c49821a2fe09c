import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWritableDir, ensureDir, removeStaleTempFiles, writeFileAtomic } from '../../lib/artifacts/atomic';

const dir = mkdtempSync(join(tmpdir(), 'dknn-atomic-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that no process has: one of a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

test('writeFileAtomic writes the parts and removes temp files that dead processes left in the folder', () => {
  const stale = join(dir, `x.bin.${deadPid()}.tmp`);
  const live = join(dir, `y.bin.${process.ppid}.tmp`);
  writeFileSync(stale, 'half written');
  writeFileSync(live, 'another process is writing this');
  writeFileAtomic(join(dir, 'out.txt'), 'a', Uint8Array.from([98]), Float32Array.from([0]));
  assert.deepEqual([...readFileSync(join(dir, 'out.txt'))], [97, 98, 0, 0, 0, 0]);
  assert.equal(existsSync(stale), false, "the dead process's temp file is gone");
  assert.equal(existsSync(live), true, "a live process's temp file stays");
  assert.deepEqual(removeStaleTempFiles(dir), []);
  rmSync(live);
  assert.deepEqual(readdirSync(dir).sort(), ['out.txt']);
});

test('ensureDir creates nested folders and refuses, without spinning, places that cannot hold files', () => {
  ensureDir(join(dir, 'a', 'b', 'c'));
  assert.ok(existsSync(join(dir, 'a', 'b', 'c')));
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => ensureDir(join(dir, 'file', 'sub')), /file exists and is not a folder/);
  const t0 = Date.now();
  assert.throws(() => ensureDir('/proc/x/y'), /cannot create \/proc\/x\/y: \/proc is not writable|cannot create/);
  assert.ok(Date.now() - t0 < 2000, 'answers at once');
  assert.throws(() => writeFileAtomic('/proc/nope.json', 'x'), /cannot write \/proc\/nope.json: ENOENT/);
  assert.throws(() => checkWritableDir('/proc'), /cannot write into \/proc: ENOENT/);
  checkWritableDir(join(dir, 'fresh'));
  assert.deepEqual(readdirSync(join(dir, 'fresh')), [], 'the probe is removed');
});
