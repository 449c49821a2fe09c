/**
 * Issue 29's weak answers about artefacts on disk, probed again: a cache entry holding NaN under a
 * valid checksum (W1), a model manifest with a malformed field (W3), a model without its checksum
 * (W4), a cache folder on a full disk (W16). Each answer names the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readContainer, writeContainer } from '../../lib/artifacts/container';
import { DkNN } from '../../lib/dknn/dknn';
import { initBackend } from '../../lib/engine/backend';
import { loadModel, saveModel } from '../../lib/models/format';
import { modelHash } from '../../lib/models/weights';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { blobs, tinyModel } from '../helpers/tiny';
import { tempFiles, withFaults } from '../helpers/faults';

const root = resolve(__dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'dknn-damaged-'));
test.before(async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const LAYERS = ['flat', 'hidden', 'logits'];

async function dknnRun(cacheDir: string | false) {
  const model = tinyModel(4);
  const warnings: string[] = [];
  const d = new DkNN(model, {
    layers: LAYERS,
    k: 5,
    cacheDir,
    onWarning: (m) => warnings.push(m),
    formula: 'conformal',
    pValueResolution: 0.1,
  });
  await d.fit(blobs(80, 1));
  await d.calibrate(blobs(30, 2));
  const pred = await d.predict(blobs(20, 3));
  model.dispose();
  return { pValues: pred.pValues, info: d.info(), warnings };
}

test('W1: a cache entry rewritten with NaN values under a valid checksum is a damaged entry: one warning naming it, recomputed and replaced', async () => {
  const cacheDir = join(tmp, 'w1');
  const first = await dknnRun(cacheDir);
  const dir = join(cacheDir, 'activations');
  const file = join(
    dir,
    readdirSync(dir).find((f) => readFileSync(join(dir, f)).includes('"layer":"hidden"'))!,
  );
  const entry = readContainer(file);
  const values = Float32Array.from(entry.get('values').values);
  values[0] = NaN;
  writeContainer(file, { arrays: [{ name: 'values', values }], meta: entry.meta }); // a valid checksum over NaN
  assert.doesNotThrow(() => readContainer(file), 'the checksum is valid');
  const second = await dknnRun(cacheDir);
  assert.equal(second.warnings.length, 1, second.warnings.join(' | '));
  assert.ok(second.warnings[0].includes(file), `the warning names the file: ${second.warnings[0]}`);
  assert.match(second.warnings[0], /value 0 is NaN; expected finite values/);
  assert.deepEqual([second.info.cache.hits, second.info.cache.written], [['flat', 'logits'], ['hidden']]);
  assert.deepEqual(second.pValues, first.pValues, 'the same results');
  const third = await dknnRun(cacheDir);
  assert.deepEqual([third.warnings, third.info.cache.hits], [[], LAYERS], 'the entry was replaced: later runs read it');
});

test('W16: a cache folder on a full disk is one warning naming the file; the run goes on without caching, with the same results', async () => {
  const reference = await dknnRun(false);
  const cacheDir = join(tmp, 'w16');
  const { value: full, error } = await withFaults({ failWrite: { nth: 1, code: 'ENOSPC' } }, () => dknnRun(cacheDir));
  assert.equal(error, undefined, `the run goes on: ${error?.message}`);
  assert.equal(full!.warnings.length, 1, full!.warnings.join(' | '));
  assert.match(
    full!.warnings[0],
    new RegExp(`cannot write ${join(cacheDir, 'activations')}/[0-9a-f]{64}\\.bin: ENOSPC`),
  );
  assert.match(full!.warnings[0], /going on without caching/);
  assert.deepEqual(full!.info.cache.written, [], 'nothing is listed as written');
  assert.deepEqual(full!.pValues, reference.pValues);
  assert.deepEqual(readdirSync(join(cacheDir, 'activations')), [], 'no entry and no temp file is left');
});

/** Runs the built dknn CLI (as the probe did), with `pre` before it in the same shell. */
function dknnCli(args: string[], options: { pre?: string; timeout?: number } = {}) {
  const cmd = [process.execPath, join(root, 'lib', 'dist', 'cli', 'dknn.js'), ...args].map((a) => `'${a}'`).join(' ');
  return spawnSync('sh', ['-c', `${options.pre ?? ''}${cmd}`], {
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
  });
}

const SMALL_RUN = ['--train-subset', '100', '--calib', '50', '--eval-end', '80', '--workers', '1', '--k', '5'];

const canMountTmpfs =
  spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs ${tmpdir()}`]).status === 0;

test(
  'W16 through the built CLI: a 1 MiB tmpfs as the cache folder is a warning naming the file, the run ends well, nothing left in it',
  { skip: canMountTmpfs ? false : 'needs unshare -rm to mount a tmpfs' },
  () => {
    const cache = join(tmp, 'tmpfs');
    mkdirSync(cache);
    const out = join(tmp, 'w16-report.json');
    const pre = `mount -t tmpfs -o size=1m tmpfs '${cache}' && `;
    const r = spawnSync(
      'unshare',
      [
        '-rm',
        'sh',
        '-c',
        `${pre}${[process.execPath, join(root, 'lib', 'dist', 'cli', 'dknn.js'), ...SMALL_RUN, '--cache-dir', cache, '--out', out].map((a) => `'${a}'`).join(' ')} && ls -a '${cache}/activations'`,
      ],
      {
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`cannot write ${cache}/activations/[0-9a-f]{64}\\.bin: ENOSPC.*going on without caching`),
    );
    assert.ok(existsSync(out), 'the report is written');
    assert.deepEqual(r.stdout.trim().split('\n').slice(-2), ['.', '..'], 'no entry and no temp file on the full disk');
  },
);

/** The parts of a model.json the probes edit. */
interface ModelJson {
  weightsManifest: { paths: unknown; weights: Record<string, unknown>[] | null }[];
  userDefinedMetadata: { dknn: Record<string, unknown> };
}

async function savedTiny(name: string): Promise<{ dir: string; path: string; json: ModelJson }> {
  const dir = join(tmp, name);
  const m = tinyModel(5);
  const path = await saveModel(dir, m);
  m.dispose();
  return { dir, path, json: JSON.parse(readFileSync(path, 'utf8')) };
}

test('W3: a malformed weights manifest is refused naming the file, the field, what was expected and what was found', async () => {
  const { dir, path, json } = await savedTiny('w3');
  const cases: [string, (j: ModelJson) => void, RegExp][] = [
    [
      'shape "abc"',
      (j) => (j.weightsManifest[0].weights![0].shape = 'abc'),
      /weightsManifest\[0\]\.weights\[0\]\.shape \(hidden\/kernel\): expected an array of non-negative integers, found "abc"/,
    ],
    [
      'shape [-1, 2]',
      (j) => (j.weightsManifest[0].weights![1].shape = [-1, 2]),
      /weights\[1\]\.shape \(hidden\/bias\): expected an array of non-negative integers, found \[-1,2\]/,
    ],
    [
      'dtype float16',
      (j) => (j.weightsManifest[0].weights![0].dtype = 'float16'),
      /weights\[0\]\.dtype \(hidden\/kernel\): expected "float32" or "int32", found "float16"/,
    ],
    [
      'no name',
      (j) => delete j.weightsManifest[0].weights![0].name,
      /weights\[0\]\.name: expected a weight name, found undefined/,
    ],
    [
      'paths "abc"',
      (j) => (j.weightsManifest[0].paths = 'abc'),
      /weightsManifest\[0\]\.paths: expected an array of file names, found "abc"/,
    ],
    [
      'weights null',
      (j) => (j.weightsManifest[0].weights = null),
      /weightsManifest\[0\]\.weights: expected an array of weight entries, found null/,
    ],
    [
      'sha256 42',
      (j) => (j.userDefinedMetadata.dknn.sha256 = 42),
      /userDefinedMetadata\.dknn\.sha256: expected 64 hexadecimal digits, found 42/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    const j = structuredClone(json);
    edit(j);
    writeFileSync(path, JSON.stringify(j));
    await assert.rejects(
      loadModel(dir),
      (e: Error) => e.message.startsWith(`${path}: `) && message.test(e.message),
      what,
    );
  }
  const j = structuredClone(json);
  j.weightsManifest[0].weights![0].shape = 'abc';
  writeFileSync(path, JSON.stringify(j));
  const r = dknnCli(['--model', dir, ...SMALL_RUN, '--no-cache', '--out', join(tmp, 'w3.json')]);
  assert.notEqual(r.status, 0);
  assert.ok(
    r.stderr.includes(
      `${path}: weightsManifest[0].weights[0].shape (hidden/kernel): expected an array of non-negative integers, found "abc"`,
    ),
    r.stderr,
  );
  assert.doesNotMatch(r.stderr, /reduce is not a function/);
});

test('W4: a model without its checksum loads, with one warning (once per file) that it is unverified, naming the file', async () => {
  const model = createMnistCnn({ seed: 9 });
  const dir = join(tmp, 'w4');
  const path = await saveModel(dir, model);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  delete json.userDefinedMetadata.dknn.sha256;
  writeFileSync(path, JSON.stringify(json));
  const weights = readFileSync(join(dir, 'weights.bin'));
  weights[1000] ^= 0x04;
  writeFileSync(join(dir, 'weights.bin'), weights);
  const warnings: string[] = [];
  const loaded = await loadModel(dir, { onWarning: (m) => warnings.push(m) });
  assert.notEqual(modelHash(loaded.model), modelHash(model), 'the flipped byte is loaded: the model is unverified');
  loaded.model.dispose();
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0].startsWith(`${path}: no checksum`), warnings[0]);
  assert.match(warnings[0], /loaded unverified/);
  (await loadModel(path, { onWarning: (m) => warnings.push(m) })).model.dispose();
  assert.equal(warnings.length, 1, 'once per file');
  model.dispose();
  const saved = await savedTiny('w4-verified');
  (await loadModel(saved.dir, { onWarning: (m) => warnings.push(m) })).model.dispose();
  assert.equal(warnings.length, 1, 'a model with its checksum loads without a word');
  const r = dknnCli(['--model', dir, ...SMALL_RUN, '--no-cache', '--out', join(tmp, 'w4.json')], { timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.split(`${path}: no checksum`).length - 1, 1, `one warning in the CLI run: ${r.stderr}`);
  assert.deepEqual(tempFiles(tmp), []);
});
