/**
 * Every writer and reader of the lib, as cases the fault-injection test (test/reliability/faults.test.ts)
 * and its child process (test/helpers/fault-child.ts) run: each writes "version v" of its content
 * into a folder and reads back what is there. Expected values are computed from the inputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { readFileBytes, writeFileAtomic } from '../../lib/artifacts/atomic';
import { ArtifactCache } from '../../lib/artifacts/cache';
import { cachedActivations } from '../../lib/activations/cache';
import { extractActivations } from '../../lib/activations/extract';
import { fgsmAttack } from '../../lib/attacks/attack';
import { craftAdversarial } from '../../lib/attacks/craft';
import { loadModel, saveModel } from '../../lib/models/format';
import { modelTensors } from '../../lib/models/weights';
import { show } from '../../lib/report/display';
import { reportIndexHtml } from '../../lib/report/index-page';
import type { Provenance } from '../../lib/report/provenance';
import { readResultsFile, toCsv, writeResults } from '../../lib/report/results';
import { resumeCheckpoint, writeCheckpoint } from '../../lib/training/checkpoint';
import { blobs, tinyModel } from './tiny';
import type { ReadDamage } from './faults';

/** A file writer and its reader. */
export interface FileCase {
  name: string;
  /** Writes version `v` of the content into `dir`. */
  write(dir: string, v: number): Promise<void>;
  /** What is in `dir`, read back with the lib's reader. */
  read(dir: string): Promise<unknown>;
  /** Asserts that `value` (from `read`) is exactly version `v`. */
  check(value: unknown, v: number): Promise<void>;
  /** The damaged reads the reader must detect: those a file without a checksum cannot (a flipped digit in JSON) are left out. */
  detects: ReadDamage[];
  /**
   * For a writer of several files: asserts what a reader gets when a process died between two of
   * the renames, after the first `renamed` files of version `v + 1` replaced those of version `v`.
   * Left out: the reader must refuse the mix, naming the file.
   */
  checkPartial?(value: unknown, at: { v: number; renamed: number }): Promise<void>;
}

const ALL: ReadDamage[] = ['flip', 'zero', 'truncate'];
const weightsOf = (m: tf.LayersModel) => modelTensors(m).map((t) => ({ name: t.name, values: Array.from(t.values) }));

async function expectModelWeights(value: unknown, seed: number): Promise<void> {
  const m = tinyModel(seed);
  assert.deepEqual(value, weightsOf(m));
  m.dispose();
}

const CKPT_RUN = { key: 'fault-test-run', identity: { test: 'faults' }, epochs: 1000 };

const checkpoint: FileCase = {
  name: 'training checkpoint',
  async write(dir, v) {
    const m = tinyModel(100 + v);
    const opt = tf.train.adam(0.01);
    const state = { checkpoint: { epochsDone: v, epochs: [], steps: [] }, bestWeights: [] };
    await writeCheckpoint(join(dir, 'train.ckpt'), m, opt, state, CKPT_RUN);
    m.dispose();
    opt.dispose();
  },
  async read(dir) {
    const m = tinyModel(1);
    const opt = tf.train.adam(0.01);
    try {
      const notices: string[] = [];
      const state = await resumeCheckpoint(join(dir, 'train.ckpt'), m, opt, CKPT_RUN, (n) => notices.push(n));
      // A damaged checkpoint is set aside with a notice naming it (the run starts fresh): here, an error.
      if (state === null) throw new Error(notices.join('; '));
      return { epochsDone: state.checkpoint.epochsDone, weights: weightsOf(m) };
    } finally {
      m.dispose();
      opt.dispose();
    }
  },
  async check(value, v) {
    const m = tinyModel(100 + v);
    assert.deepEqual(value, { epochsDone: v, weights: weightsOf(m) });
    m.dispose();
  },
  detects: ALL,
};

const model: FileCase = {
  name: 'model save/load',
  async write(dir, v) {
    const m = tinyModel(200 + v);
    await saveModel(join(dir, 'model'), m, { record: { version: v } });
    m.dispose();
  },
  async read(dir) {
    const saved = await loadModel(join(dir, 'model'), {
      onWarning: (w) => assert.fail(`a saved model has a checksum: ${w}`),
    });
    const out = { record: saved.record, weights: weightsOf(saved.model) };
    saved.model.dispose();
    return out;
  },
  async check(value, v) {
    const { record, weights } = value as { record: unknown; weights: unknown };
    assert.deepEqual(record, { version: v });
    await expectModelWeights(weights, 200 + v);
  },
  detects: ALL,
};

const provenance = (v: number): Provenance => ({
  commit: `commit-${v}`,
  createdAt: '2024-01-01T00:00:00.000Z',
  node: process.version,
  backend: 'cpu',
  seed: v,
  parameters: { v },
  dataChecksums: {},
  stages: [],
});
const table = (v: number) => ({ i: [0, 1, 2], x: [v, v + 0.5, -v] });
const resultsOf = (v: number) => ({ quick: true, parameters: { v }, results: { value: v }, provenance: provenance(v) });

const results: FileCase = {
  name: 'results JSON and CSV',
  async write(dir, v) {
    writeResults('nb', { ...resultsOf(v), perInput: { rows: table(v) } }, { dir });
  },
  async read(dir) {
    // The CSV has no reader in the lib (and no checksum): it is read as text, outside the verified readers.
    return { json: readResultsFile(join(dir, 'nb.results.json')), csv: readFileSync(join(dir, 'nb.rows.csv'), 'utf8') };
  },
  async check(value, v) {
    const { json, csv } = value as { json: unknown; csv: string };
    const { tables, ...rest } = json as { tables: Record<string, string> };
    assert.deepEqual(rest, { notebook: 'nb', ...resultsOf(v) });
    assert.deepEqual(Object.keys(tables), ['rows']);
    assert.ok(tables.rows.endsWith('nb.rows.csv'));
    assert.equal(csv, toCsv(table(v)));
  },
  // JSON carries no checksum: a flipped bit in a digit reads as another number. Half-written (truncated, zero-filled) JSON is refused.
  detects: ['zero', 'truncate'],
  async checkPartial(value, { v }) {
    // The CSVs are renamed first and the JSON last: each file is whole, the JSON still the previous run's.
    const { json, csv } = value as { json: unknown; csv: string };
    await this.check({ json, csv: toCsv(table(v)) }, v);
    assert.equal(csv, toCsv(table(v + 1)));
  },
};

const showPage: FileCase = {
  name: 'report page (dk.show outside a notebook)',
  async write(_dir, v) {
    show(`report version ${v} marker`);
  },
  async read() {
    return readFileBytes(process.env['DKNN_SHOW_FILE']!).toString();
  },
  async check(value, v) {
    const text = value as string;
    assert.ok(text.endsWith('</body></html>\n'), 'a whole page');
    assert.ok(text.includes(`report version ${v} marker`), `version ${v} is on the page`);
    assert.ok(!text.includes(`report version ${v + 1} marker`), `version ${v + 1} is not`);
  },
  detects: [], // read by a browser: no reader of the lib verifies it
};

const reportIndex: FileCase = {
  name: 'report index',
  async write(dir, v) {
    // As scripts/run-notebooks.mjs writes it: each notebook's results read back, the page written atomically.
    const entry = { notebook: 'nb', href: 'nb.html', results: readResultsFile(join(dir, 'nb.results.json')) };
    const html = reportIndexHtml([{ ...entry, seconds: v, status: 'ok' }], { title: `reports ${v}` });
    writeFileAtomic(join(dir, 'index.html'), html);
  },
  async read(dir) {
    return readFileBytes(join(dir, 'index.html')).toString();
  },
  async check(value, v) {
    const text = value as string;
    assert.ok(text.endsWith('</html>'), 'a whole page');
    assert.ok(text.includes(`<title>reports ${v}</title>`), `version ${v}`);
  },
  detects: [],
};

/** The file writers, by name. `reportIndex` needs `nb.results.json` in its folder (written by `prepare`). */
export const FILE_CASES: Record<string, FileCase & { prepare?: (dir: string) => void }> = {
  checkpoint,
  model,
  results,
  showPage,
  reportIndex: { ...reportIndex, prepare: (dir) => void writeResults('nb', resultsOf(0), { dir }) },
};

/** A run through a cache: the values it returns, the warnings, the entries written. */
export interface CacheRun {
  values: Float32Array[];
  warnings: string[];
  written: number;
}

/** A cache reader-writer: a run computes through the cache; `expected` computes the same without it. */
export interface CacheCase {
  name: string;
  run(dir: string): Promise<CacheRun>;
  expected(): Promise<Float32Array[]>;
}

const LAYERS = ['flat', 'hidden', 'logits'];

const activations: CacheCase = {
  name: 'activation cache',
  async run(dir) {
    const warnings: string[] = [];
    const cache = new ArtifactCache({ dir, onWarning: (w) => warnings.push(w) });
    const m = tinyModel(7);
    const r = await cachedActivations(m, blobs(40, 1), { layers: LAYERS, cache });
    m.dispose();
    return { values: r.values, warnings, written: r.written.length };
  },
  async expected() {
    const m = tinyModel(7);
    const r = await extractActivations(m, blobs(40, 1), { layers: LAYERS });
    m.dispose();
    return r.layers.map((l) => l.values);
  },
};

const EPS = 0.1;

const adversarial: CacheCase = {
  name: 'adversarial cache',
  async run(dir) {
    const warnings: string[] = [];
    const cache = new ArtifactCache({ dir, onWarning: (w) => warnings.push(w) });
    const m = tinyModel(8);
    const set = await craftAdversarial(m, blobs(12, 2), { attack: fgsmAttack({ eps: EPS }), cache, workers: 1 });
    m.dispose();
    return { values: [set.images], warnings, written: set.cached || set.cachePath === null ? 0 : 1 };
  },
  async expected() {
    const m = tinyModel(8);
    const set = await craftAdversarial(m, blobs(12, 2), { attack: fgsmAttack({ eps: EPS }), cache: false, workers: 1 });
    m.dispose();
    return [set.images];
  },
};

/** The cache readers-writers, by name. */
export const CACHE_CASES: Record<string, CacheCase> = { activations, adversarial };
