/**
 * `npm run train` under the issue-29 probe, run as the probe ran it (the built CLI, lib/dist/cli;
 * `npm run build` first), on 100 to 500 images for one epoch, every output and checkpoint in a temp
 * folder: a committed model is never overwritten however --out spells its folder (B1); a checkpoint
 * is resumed only by the run that made it, and says so (B2, training identity); a diverged or
 * chance-level model is not saved (W2); an unwritable checkpoint fails at once (W21); a failed save
 * leaves no folder behind (W18).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { initBackend } from '../../lib/engine/backend';
import { createMnistCnn } from '../../lib/models/mnist-cnn';
import { randomAffineAugment, randomShiftAugment } from '../../lib/training/augment';
import { chanceAccuracy, trainingProblems } from '../../lib/training/health';
import { trainingKey } from '../../lib/training/identity';
import type { EpochRecord, StepRecord, TrainArgs } from '../../lib/training/types';
import { toyImages } from '../models/helpers';

const root = resolve(__dirname, '..', '..');
const trainCli = join(root, 'lib', 'dist', 'cli', 'train.js');
const tmp = mkdtempSync(join(tmpdir(), 'dknn-train-reliability-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** One epoch on this thread: the smallest run the CLI makes. */
const SMALL = ['--epochs', '1', '--workers', '1'];

/** `node lib/dist/cli/train.js args`, optionally under a shell prefix (e.g. `ulimit -f 1024 &&`). */
function train(args: string[], env: Record<string, string> = {}, shellPrefix?: string) {
  const quoted = [process.execPath, trainCli, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = shellPrefix
    ? spawnSync('sh', ['-c', `${shellPrefix} exec ${quoted}`], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, ...env },
      })
    : spawnSync(process.execPath, [trainCli, ...args], {
        cwd: root,
        encoding: 'utf8',
        timeout: 300_000,
        env: { ...process.env, DKNN_DEBUG: '', ...env },
      });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/\r[^\n]*(?=\r|\n)/g, '') };
}

/** The training record of the model saved in `dir`. */
function record(dir: string): Record<string, unknown> & { train: Record<string, unknown> } {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  return json.userDefinedMetadata.dknn.record;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('B1: --out naming a committed model folder, however spelled, is refused before any training, and the model stays as it was', () => {
  // A data folder like the repository's, whose pretrained model is a copy: a failing guard overwrites only the copy.
  const data = join(tmp, 'b1-data');
  mkdirSync(join(data, 'pretrained'), { recursive: true });
  for (const name of readdirSync(join(root, 'data')))
    if (name !== 'pretrained') symlinkSync(join(root, 'data', name), join(data, name));
  const committed = join(data, 'pretrained', 'mnist-cnn');
  cpSync(join(root, 'data', 'pretrained', 'mnist-cnn'), committed, { recursive: true });
  const before = readdirSync(committed).map((f) => [f, sha(join(committed, f))]);
  symlinkSync(join(data, 'pretrained'), join(tmp, 'b1-alias'));
  const spellings = [
    committed,
    `${committed}/`,
    `./${relative(root, committed)}/`,
    join(tmp, 'b1-alias', 'mnist-cnn'),
    `${join(data, 'pretrained', 'gtsrb-cnn')}/../mnist-cnn`,
  ];
  const env = { DKNN_DATA_DIR: data, DKNN_CACHE_DIR: join(tmp, 'b1-cache') };
  for (const out of [...spellings.map((s) => ['--out', s]), []]) {
    const r = train(['--subset', '100', ...SMALL, '--fresh', ...out], env);
    const what = out.length ? `--out ${out[1]}` : 'no --out';
    assert.equal(r.status, 1, `${what}: exit status`);
    assert.match(
      r.stderr,
      new RegExp(`would overwrite the committed pretrained model at ${committed}; pass --force`),
      what,
    );
    assert.match(r.stderr, /or --out with another folder/, what);
    assert.doesNotMatch(r.stderr, /engine backend|train epoch/, `${what}: refused before any work`);
  }
  assert.deepEqual(
    readdirSync(committed).map((f) => [f, sha(join(committed, f))]),
    before,
    'the committed model is unchanged',
  );
});

test('B2: a checkpoint is resumed only by the run that made it, with a line naming the epoch; another run starts fresh and says what differs', () => {
  const env = { DKNN_CACHE_DIR: join(tmp, 'b2-cache') };
  const out = (name: string) => join(tmp, 'b2', name);
  const a = train(['--subset', '100', ...SMALL, '--fresh', '--out', out('A')], env);
  assert.equal(a.status, 0, a.stderr);
  const b = train(['--subset', '200', ...SMALL, '--out', out('B')], env);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /checkpoint \S+ is another run's \(.*data\.n 100 → 200.*\): starting fresh/);
  assert.equal(record(out('B')).train.resumedFromEpoch, 0);
  assert.equal(record(out('B')).train.images, 200);
  assert.notEqual(sha(join(out('B'), 'weights.bin')), sha(join(out('A'), 'weights.bin')), 'B trained its own weights');
  const c = train(['--subset', '200', ...SMALL, '--out', out('C')], env);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, /resuming from checkpoint \S+: it holds 1 epoch\(s\), all of the 1 asked for/);
  assert.equal(record(out('C')).train.resumedFromEpoch, 1);
  assert.equal(record(out('C')).train.checkpointKey, record(out('B')).train.checkpointKey);
  assert.equal(
    sha(join(out('C'), 'weights.bin')),
    sha(join(out('B'), 'weights.bin')),
    'the same run resumes its weights',
  );
});

test('training identity: every input that changes the weights changes the checkpoint key, and nothing else does', async () => {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  const data = toyImages(40, 1);
  const model = createMnistCnn({ seed: 1 });
  const base: TrainArgs = { epochs: 2, batchSize: 20, learningRate: 0.001, seed: 3, workers: 1 };
  const key = (args: TrainArgs, m = model, d = data) => trainingKey(m, d, args).key;
  const k0 = key(base);
  const other = createMnistCnn({ seed: 2 });
  const changes: [string, string][] = [
    ['the data', key(base, model, toyImages(40, 2))],
    [
      'a subset',
      key(base, model, {
        ...data,
        n: 30,
        images: data.images.slice(0, 30 * 784),
        labels: Array.from(data.labels).slice(0, 30),
      }),
    ],
    ['the initial weights (init seed, --init-from)', key(base, other)],
    ['the learning rate', key({ ...base, learningRate: 0.002 })],
    ['the batch size', key({ ...base, batchSize: 10 })],
    ['the shuffling seed', key({ ...base, seed: 4 })],
    ['the workers', key({ ...base, workers: 2 })],
    ['the augmentation', key({ ...base, augment: randomShiftAugment() })],
    ['its settings', key({ ...base, augment: randomShiftAugment({ maxShift: 3 }) })],
    ['its kind', key({ ...base, augment: randomAffineAugment() })],
    ['the validation set', key({ ...base, earlyStopping: { data: toyImages(10, 5), patience: 2 } })],
    ['the evaluation set', key({ ...base, evalData: toyImages(10, 6) })],
    ['the architecture', key({ ...base, architecture: { name: 'mnist-cnn', args: { seed: 1 } } })],
    ['what the caller adds', key({ ...base, identity: { pipeline: 'v2' } })],
  ];
  const seen = new Set([k0]);
  for (const [what, k] of changes) {
    assert.ok(!seen.has(k), `${what} changes the key`);
    seen.add(k);
  }
  const same: [string, string][] = [
    ['more epochs', key({ ...base, epochs: 6 })],
    ['another checkpoint path', key({ ...base, checkpointPath: join(tmp, 'x.ckpt') })],
    ['a progress callback', key({ ...base, onProgress: () => {} })],
    ['the defaults spelled out or not', key({ epochs: 2, batchSize: 20, seed: 3 })],
  ];
  for (const [what, k] of same) assert.equal(k, k0, `${what} keeps the key`);
  const es = (patience: number) => key({ ...base, earlyStopping: { data: toyImages(10, 5), patience } });
  assert.equal(es(1), es(5), 'the patience keeps the key (it only decides when to stop)');
  model.dispose();
  other.dispose();
});

test('W2: a model at chance (--lr 1e9, one Adam step) is refused and nothing is saved; --keep-anyway saves it with the problem recorded', () => {
  const env = { DKNN_CACHE_DIR: join(tmp, 'w2-cache') };
  const out = join(tmp, 'w2', 'model');
  const r = train(['--lr', '1e9', '--subset', '500', ...SMALL, '--out', out], env);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /refusing to save the model to \S+: the test accuracy [\d.]+ is at chance/);
  assert.match(r.stderr, /--keep-anyway/);
  assert.ok(!existsSync(join(tmp, 'w2')), 'nothing saved, no folder made');
  const kept = train(['--lr', '1e9', '--subset', '500', ...SMALL, '--out', out, '--keep-anyway'], env);
  assert.equal(kept.status, 0, kept.stderr);
  assert.match(kept.stderr, /warning \(kept with --keep-anyway\): the test accuracy/);
  const problems = record(out).problems as string[];
  assert.equal(problems.length, 1);
  assert.match(problems[0], /at chance/);
});

test('W2: the outcome checks: a loss that rose above its start and a uniform guess, an accuracy within 3 standard errors of the largest class share', () => {
  const steps = (losses: number[]): StepRecord[] =>
    losses.map((loss, i) => ({ epoch: 1, step: i + 1, loss, accuracy: 0 }));
  const epochs = (losses: number[]): EpochRecord[] =>
    losses.map((loss, i) => ({ epoch: i + 1, loss, accuracy: 0, evalAccuracy: NaN, seconds: 1, imagesPerSecond: 1 }));
  // 100 labels of 3 classes, shares 0.5 / 0.3 / 0.2: chance 0.5, 3 standard errors 3·√(0.25/100) = 0.15.
  const labels = [...Array(50).fill(0), ...Array(30).fill(1), ...Array(20).fill(2)];
  const { chance, margin } = chanceAccuracy(labels, 3);
  assert.equal(chance, 0.5);
  assert.ok(Math.abs(margin - 0.15) < 1e-12);
  const check = (losses: number[], epochLosses: number[], accuracy: number) =>
    trainingProblems({ steps: steps(losses), epochs: epochs(epochLosses), accuracy, labels, numClasses: 3 });
  assert.deepEqual(check([1.1, 0.5], [0.8], 0.9), [], 'a loss that fell, a learned accuracy');
  assert.deepEqual(check([0.02, 0.05], [0.04], 0.9), [], 'a fine-tune whose loss wobbled up near zero is not diverged');
  assert.match(check([1.1, 1e6], [1e6], 0.9).join(), /the training loss rose from 1\.100 .* to 1\.000e\+6/);
  assert.match(check([1.1, 0.5], [0.8], 0.65).join(), /at chance/);
  assert.deepEqual(check([1.1, 0.5], [0.8], 0.66), []);
  assert.equal(check([1.1, 1e6], [1e6], 0.3).length, 2);
});

test('W21: an unwritable checkpoint path (or a file that is no checkpoint) fails at once, naming it, before any training', () => {
  const out = join(tmp, 'w21', 'model');
  const explicit = train(['--subset', '100', ...SMALL, '--checkpoint', '/proc/x.ckpt', '--out', out]);
  assert.equal(explicit.status, 1);
  assert.match(explicit.stderr, /cannot write the checkpoint \/proc\/x\.ckpt: /);
  assert.doesNotMatch(explicit.stderr, /train epoch|engine backend/);
  const cache = train(['--subset', '100', ...SMALL, '--out', out], { DKNN_CACHE_DIR: '/proc/dknn-cache' });
  assert.equal(cache.status, 1);
  assert.match(cache.stderr, /cannot write the checkpoint \/proc\/dknn-cache\/train\/\S+\.ckpt: /);
  assert.doesNotMatch(cache.stderr, /train epoch/);
  const notes = join(tmp, 'w21-notes.txt');
  writeFileSync(notes, 'not a checkpoint\n');
  const other = train(['--subset', '100', ...SMALL, '--checkpoint', notes, '--fresh', '--out', out]);
  assert.equal(other.status, 1);
  assert.match(
    other.stderr,
    /cannot write the checkpoint \S+w21-notes\.txt: the file there is not a training checkpoint/,
  );
  assert.equal(readFileSync(notes, 'utf8'), 'not a checkpoint\n', '--fresh removes only a checkpoint');
  assert.ok(!existsSync(join(tmp, 'w21')), 'no --out folder made');
});

test('W18: a save that fails (file size limit: EFBIG, as a full disk gives ENOSPC) names the folder and leaves no folder behind', () => {
  const checkpoint = join(tmp, 'w18.ckpt');
  const args = ['--subset', '100', ...SMALL, '--checkpoint', checkpoint];
  const first = train([...args, '--out', join(tmp, 'w18-first')]);
  assert.equal(first.status, 0, first.stderr);
  // The same run again resumes the finished checkpoint, so the model's weights are its first write.
  const out = join(tmp, 'w18', 'new', 'model');
  const r = train([...args, '--out', out], {}, 'ulimit -f 1024 &&');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /resuming from checkpoint/);
  assert.match(r.stderr, new RegExp(`cannot save the model to ${out}: .*EFBIG`));
  assert.ok(!existsSync(join(tmp, 'w18')), `nothing left of ${out} or the folders made for it`);
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.includes('partial') || f.endsWith('.tmp')),
    [],
    'no temp folder or file left',
  );
});

test('W22: train --validation -0.2 (no other option) gets the range message, before anything about where the model goes', () => {
  const r = train(['--validation', '-0.2']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'train: --validation must be a fraction in (0, 1), found -0.2\n');
});
