/**
 * Faults injected on purpose (issue 29) into every writer and reader of the lib: activation cache,
 * adversarial cache, training checkpoints, model save/load, results JSON/CSV, the report page and
 * the report index. A write fails with ENOSPC or EIO at each of its writes; a read returns damaged
 * bytes at each of its reads; a child process dies between writing a temp file and renaming it,
 * or is interrupted mid-write. Checked each time: nothing half-written is ever read back, the
 * previous good file survives, every error names its path, no temp file outlives its process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend } from '../../lib/engine/backend';
import { CACHE_CASES, FILE_CASES, type CacheCase } from '../helpers/fault-cases';
import { countOperations, tempFiles, withFaults, type Death, type FaultPlan, type WriteFault } from '../helpers/faults';

const root = resolve(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'dknn-faults-'));
process.env['DKNN_SHOW_FILE'] = join(tmp, 'show', 'page.html');
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

let folders = 0;
function fresh(): string {
  const dir = join(tmp, `case-${++folders}`);
  mkdirSync(dir);
  return dir;
}

const CODES: WriteFault[] = ['ENOSPC', 'EIO'];
/** The path a fired fault names (`ENOSPC writing /x/y` → `/x/y`). */
const faultPath = (fired: string) => fired.replace(/^.*? (writing|reading|renaming) /, '');

for (const [name, c] of Object.entries(FILE_CASES)) {
  test(`${c.name}: a write failing (ENOSPC, EIO) at any of its writes names the file and leaves the previous version whole, and no temp file`, async () => {
    const dir = fresh();
    c.prepare?.(dir);
    let v = 1;
    await c.write(dir, v);
    const { writes } = await countOperations(() => c.write(dir, ++v));
    assert.ok(writes >= 1, `${name} writes through the atomic writer`);
    for (let nth = 1; nth <= writes; nth++) {
      for (const code of CODES) {
        const { error, faults } = await withFaults({ failWrite: { nth, code } }, () => c.write(dir, v + 1));
        const what = `${code} at write ${nth} of ${writes}`;
        assert.equal(faults.fired.length, 1, what);
        assert.ok(error, `${what}: the write fails`);
        assert.ok(
          error.message.includes(faultPath(faults.fired[0])),
          `${what}: the error names the file: ${error.message}`,
        );
        assert.ok(error.message.includes(code), `${what}: and the reason: ${error.message}`);
        await c.check(await c.read(dir), v);
        assert.deepEqual(tempFiles(tmp), [], `${what}: no temp file is left`);
      }
    }
    await c.write(dir, v + 1);
    await c.check(await c.read(dir), v + 1);
  });

  if (c.detects.length === 0) continue;
  test(`${c.name}: damaged bytes at any of its reads (${c.detects.join(', ')}) are refused naming the file, never returned`, async () => {
    const dir = fresh();
    c.prepare?.(dir);
    await c.write(dir, 1);
    const { reads } = await countOperations(() => c.read(dir));
    assert.ok(reads >= 1, `${name} reads through the verified reader`);
    const refused = new Set<string>();
    for (let nth = 1; nth <= reads; nth++) {
      for (const how of c.detects) {
        const { value, error, faults } = await withFaults({ damageRead: { nth, how } }, () => c.read(dir));
        const what = `${how} at read ${nth} of ${reads}`;
        assert.equal(faults.fired.length, 1, what);
        if (error) {
          assert.ok(
            error.message.includes(faultPath(faults.fired[0])),
            `${what}: the error names the file: ${error.message}`,
          );
          refused.add(how);
        } else {
          await c.check(value, 1); // e.g. a short read that the reader completed: the right content, or nothing
        }
      }
    }
    for (const how of c.detects.filter((h) => h !== 'truncate'))
      assert.ok(refused.has(how), `a ${how} is refused at least once`);
    await c.check(await c.read(dir), 1);
  });
}

function assertValues(actual: Float32Array[], expected: Float32Array[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.deepEqual(a, expected[i], `${what}: array ${i}`));
}

async function cacheWriteFaults(c: CacheCase): Promise<void> {
  const expected = await c.expected();
  const { writes } = await countOperations(() => c.run(fresh()));
  assert.ok(writes >= 1);
  for (let nth = 1; nth <= writes; nth++) {
    for (const code of CODES) {
      const dir = fresh();
      const { value: r, error, faults } = await withFaults({ failWrite: { nth, code } }, () => c.run(dir));
      const what = `${code} at write ${nth} of ${writes}`;
      assert.equal(error, undefined, `${what}: the run goes on`);
      assertValues(r!.values, expected, what);
      assert.equal(r!.warnings.length, 1, `${what}: one warning: ${r!.warnings.join(' | ')}`);
      assert.ok(r!.warnings[0].includes(faultPath(faults.fired[0])), `${what}: naming the file: ${r!.warnings[0]}`);
      assert.match(r!.warnings[0], new RegExp(`${code}.*going on without caching`));
      assert.equal(r!.written, nth - 1, `${what}: nothing more is written after the failure`);
      assert.deepEqual(tempFiles(tmp), [], `${what}: no temp file is left`);
      const again = await c.run(dir);
      assertValues(again.values, expected, `${what}, next run`);
      assert.deepEqual(again.warnings, [], `${what}: nothing half-written is read back`);
      assert.equal(again.written, writes - (nth - 1), `${what}: the next run writes what is missing`);
    }
  }
}

async function cacheReadFaults(c: CacheCase): Promise<void> {
  const expected = await c.expected();
  const dir = fresh();
  await c.run(dir);
  const { reads, writes } = await countOperations(() => c.run(dir));
  assert.equal(writes, 0, 'a second run reads everything from the cache');
  for (let nth = 1; nth <= reads; nth++) {
    for (const how of ['flip', 'zero', 'truncate'] as const) {
      const { value: r, faults } = await withFaults({ damageRead: { nth, how } }, () => c.run(dir));
      const what = `${how} at read ${nth} of ${reads}`;
      assertValues(r!.values, expected, what);
      if (how === 'flip') assert.equal(r!.warnings.length, 1, `${what}: one warning`);
      assert.ok(r!.warnings.length <= 1, what);
      for (const w of r!.warnings) assert.ok(w.includes(faultPath(faults.fired[0])), `${what}: naming the file: ${w}`);
      assert.equal(r!.written, r!.warnings.length, `${what}: a damaged entry is recomputed and replaced`);
      const clean = await c.run(dir);
      assert.deepEqual([clean.warnings, clean.written], [[], 0], `${what}: then every entry is a hit`);
    }
  }
}

for (const c of Object.values(CACHE_CASES)) {
  test(`${c.name}: an entry failing to write (ENOSPC, EIO) is one warning naming it; the run goes on with the right values, uncached`, () =>
    cacheWriteFaults(c));
  test(`${c.name}: damaged bytes at any read of an entry are a miss with one warning naming it; the values stay right`, () =>
    cacheReadFaults(c));
}

function child(name: string, dir: string, v: number, plan: FaultPlan) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/helpers/fault-child.ts'), JSON.stringify({ name, dir, v, plan })],
    { cwd: root, encoding: 'utf8', env: { ...process.env }, timeout: 60_000 },
  );
}

const DEATHS: [Death, { status: number | null; signal: NodeJS.Signals | null }][] = [
  ['exit', { status: 3, signal: null }],
  ['SIGKILL', { status: null, signal: 'SIGKILL' }],
];

for (const [name, c] of Object.entries(FILE_CASES)) {
  if (name === 'showPage') continue; // its page lives in this process's memory
  test(`${c.name}: a process dying between writing a temp file and renaming it leaves the previous version readable`, async () => {
    const dir = fresh();
    c.prepare?.(dir);
    await c.write(dir, 1);
    const { renames } = await countOperations(() => c.write(dir, 2));
    let v = 2;
    for (const [how, end] of DEATHS) {
      for (let nth = 1; nth <= renames; nth++) {
        const r = child(name, dir, v + 1, { dieBeforeRename: { nth, how } });
        const what = `${how} before rename ${nth} of ${renames}`;
        assert.deepEqual({ status: r.status, signal: r.signal }, end, `${what}: ${r.stderr}`);
        assert.ok(!r.stdout.includes('finished'), what);
        if (nth === 1) await c.check(await c.read(dir), v);
        else if (c.checkPartial) await c.checkPartial(await c.read(dir), { v, renamed: nth - 1 });
        else
          await assert.rejects(c.read(dir), (e: Error) => e.message.includes(dir), `${what}: a mix is refused, named`);
        if (how === 'exit') assert.deepEqual(tempFiles(dir), [], `${what}: the exiting process removed its temp files`);
        await c.write(dir, ++v); // the next write into the folder removes a killed process's temp files
        assert.deepEqual(tempFiles(dir), [], `${what}: none is left after the next write`);
        await c.check(await c.read(dir), v);
      }
    }
  });
}

test('activation cache: a process dying before renaming an entry leaves no entry; the next run computes it, with no warning', async () => {
  const c = CACHE_CASES.activations;
  const expected = await c.expected();
  for (const [how, end] of DEATHS) {
    const dir = fresh();
    const r = child('activations', dir, 0, { dieBeforeRename: { nth: 2, how } });
    assert.deepEqual({ status: r.status, signal: r.signal }, end, r.stderr);
    const next = await c.run(dir);
    assertValues(next.values, expected, how);
    assert.deepEqual(
      [next.warnings, next.written],
      [[], 2],
      `${how}: the entry written before stays, the others are computed`,
    );
    assert.deepEqual(tempFiles(dir), [], how);
  }
});

test('SIGINT or SIGTERM arriving mid-write: the write completes (or its temp file is removed), then the process ends by that signal, leaving no temp file', async () => {
  for (const name of ['model', 'results', 'checkpoint']) {
    const c = FILE_CASES[name];
    const dir = fresh();
    c.prepare?.(dir);
    await c.write(dir, 1);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const plan of [
        { signalDuringWrite: { nth: 1, signal } },
        { dieBeforeRename: { nth: 1, how: signal as Death } },
      ]) {
        const r = child(name, dir, 2, plan as FaultPlan);
        const what = `${name}, ${JSON.stringify(plan)}`;
        assert.equal(r.signal, signal, `${what}: ended by ${signal} (status ${r.status}): ${r.stderr}`);
        assert.deepEqual(tempFiles(dir), [], `${what}: no temp file is left`);
        await c.check(await c.read(dir), 2);
        await c.write(dir, 1);
      }
    }
  }
});

test("an interrupt while another listener handles SIGINT is that listener's: the process goes on", () => {
  const dir = fresh();
  const code = `
    const { writeFileAtomic } = require(${JSON.stringify(join(root, 'lib/artifacts/atomic.ts'))});
    const { injectFaults } = require(${JSON.stringify(join(root, 'test/helpers/faults.ts'))});
    let seen = 0;
    process.on('SIGINT', () => seen++);
    injectFaults({ signalDuringWrite: { nth: 1, signal: 'SIGINT' } });
    writeFileAtomic(${JSON.stringify(join(dir, 'a.txt'))}, 'x');
    setTimeout(() => { console.log('alive', seen); }, 200);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'alive 1');
  assert.deepEqual(tempFiles(dir), []);
});
