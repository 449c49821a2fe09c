/**
 * `npm run bench [-- section ...]`: the project's benchmarks, each writing
 * `bench/results/<section>.json` and `.md` (atomically). Sections: `train` (default), `knn`, `dknn`.
 * Every figure is reported with an in-run baseline measured the same way, as a ratio.
 *
 *   train: training img/s of the MNIST CNN (real trainModel, batch 500) with XNNPACK convolutions
 *          (fast gradient kernels) and with native convolutions (onnxruntime's GEMM), single-
 *          threaded and data-parallel on 2 threads (`workers: 2`), vs the stock wasm kernels (the
 *          package's scalar Conv2DBackpropInput + a plain loop for the missing
 *          Conv2DBackpropFilter), beside PyTorch on the same cores (bench/pytorch/train_speed.py);
 *          inference img/s; peak RSS.
 *   knn:   exact kNN, 60,000 × 3,200, k = 75: plain-JS naive loop vs the optimized JS backend vs
 *          the native (onnxruntime GEMM) backend.
 *   knn-backends: exact vs LSH (FALCONN-style: paper preset, FALCONN defaults with a numProbes
 *          sweep) vs HNSW on the real DkNN layer activations (see bench/knn-backends.ts).
 *   dknn-backends: the DkNN with each index (exact, LSH paper preset, LSH tuned, HNSW) on the
 *          9,250 evaluation inputs against the exact DkNN (see bench/dknn-backends.ts).
 *   attacks: crafting images/s of FGSM, BIM and CW-L2 with the notebook's settings.
 *   seeds: the reference recipe trained with 5 seeds on 2 threads: test accuracy mean ± sd (see bench/seed-study.ts).
 *   vs-pytorch: the clean pipeline beside the PyTorch + faiss re-implementation, per stage (see bench/vs-pytorch.ts).
 *   wasm-kernels: each WebAssembly SIMD kernel of lib/native, AssemblyScript build vs the
 *          hand-assembled kernels it replaced, interleaved repetitions, medians (see bench/wasm-kernels.ts).
 *   guided-steps: the guided DkNN attack by ε and step budget (see bench/guided-steps.ts).
 *   gradient-free: Square and HopSkipJump beside BIM at ε 0.25 on the MNIST CNN, their queries, the
 *          DkNN on their examples (see bench/gradient-free.ts).
 *   tweak-page: the tweak panel in Chromium at full size: each change's time from the event to the
 *          figures drawn (see bench/tweak-page.ts).
 *   onnx:  the MNIST CNN as tfjs and as ONNX: extraction speed, and the DkNN's agreement (see bench/onnx.ts).
 *   reproduce: the notebooks at full size, their wall time and recorded stages, the sum per kind of
 *          stage (see bench/reproduce.ts; REPRODUCE_FROM=DIR tabulates an earlier run).
 *   dknn:  the clean DkNN pipeline at full size (extract 60k, index, calibrate 750, predict 9,250,
 *          4 layers, exact search): seconds per stage, peak RSS, DNN/DkNN accuracy; baseline: the
 *          plain-JS brute force on a sample of inputs for the kNN stage.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../lib/engine/backend';
import { setWasmKernelMode, wasmKernelMode, type SettableWasmKernelMode } from '../lib/engine/kernels';
import { loadMnist } from '../lib/data/datasets';
import { subset } from '../lib/data/split';
import { createMnistCnn } from '../lib/models/mnist-cnn';
import { createModel } from '../lib/models/zoo';
import { trainModel } from '../lib/training/train';
import { gitCommit, repoRoot } from '../lib/artifacts/repo';
import { terminalProgress } from '../lib/util/progress';
import { writeFileAtomic } from '../lib/artifacts/atomic';
import { benchAttacks } from './attacks';
import { benchExact } from './knn-exact';
import { benchKnnBackends } from './knn-backends';
import { benchDknnBackends } from './dknn-backends';
import { benchVsPytorch } from './vs-pytorch';
import { benchSeeds } from './seed-study';
import { benchGuidedSteps } from './guided-steps';
import { benchGradientFree } from './gradient-free';
import { benchWasmKernels } from './wasm-kernels';
import { benchSetup } from './setup';
import { benchTweak } from './tweak';
import { benchTweakPage } from './tweak-page';
import { benchOnnx } from './onnx';
import { benchReproduce } from './reproduce';
import { NaiveIndex } from './naive-index';
import { DkNN } from '../lib/dknn/dknn';
import { accuracy } from '../lib/metrics/classification';
import { loadModel } from '../lib/models/format';
import { pretrainedPath } from '../lib/models/zoo';
import { dataDir } from '../lib/data/datasets';
import { predictLogits } from '../lib/models/predict';
import { nativeGemmStatus } from '../lib/native/gemm-sync';

type Row = Record<string, string | number | boolean | null>;

interface SectionResult {
  section: string;
  description: string;
  rows: Row[];
  notes: string[];
  extra?: Record<string, unknown>;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat, USER_HZ = 100), or NaN. */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Starts a contention meter: its result is the CPU (in cores, averaged over the interval) that
 * other processes used meanwhile — ~0 on an otherwise idle machine. Worker threads count as ours.
 */
function contentionMeter(): () => number {
  const busy0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const own = process.cpuUsage(own0);
    const seconds = (performance.now() - t0) / 1000;
    const others = machineBusySeconds() - busy0 - (own.user + own.system) / 1e6;
    return Number((Math.max(0, others) / seconds).toFixed(2));
  };
}

/** PyTorch's training img/s on this machine (bench/pytorch/train_speed.py), or the reason it was skipped. */
function pytorchTrainSpeed(
  steps: number,
  batch: number,
  threads: number,
): { imagesPerSecond: number; torch: string } | { skipped: string } {
  const py = '/usr/bin/python3';
  const r = spawnSync(
    py,
    ['bench/pytorch/train_speed.py', '--steps', String(steps), '--batch', String(batch), '--threads', String(threads)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0)
    return {
      skipped: `${py} bench/pytorch/train_speed.py failed (python3-torch installed?): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
    };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { imagesPerSecond: number; torch: string };
}

async function benchTrain(): Promise<SectionResult> {
  const backend = await initBackend();
  const defaultMode = wasmKernelMode();
  const mnist = await loadMnist();
  const steps = Number(process.env.DKNN_BENCH_TRAIN_STEPS ?? 8);
  const batch = 500;
  const rows: Row[] = [];
  const architecture = { name: 'mnist-cnn', args: { seed: 1 } };
  const run = async (label: string, mode: SettableWasmKernelMode, nSteps: number, workers = 1) => {
    if (backend.name === 'wasm') setWasmKernelMode(mode);
    const model = createModel(architecture);
    // One warm-up step (kernel set-up, XNNPACK operator caches), then the timed steps. With
    // workers, each worker also warms up on a zero batch before the first step (not timed).
    const common = { epochs: 1, batchSize: batch, workers, architecture };
    await trainModel(model, subset(mnist.train, { end: batch }), { ...common, seed: 1 });
    const meter = contentionMeter();
    const r = await trainModel(model, subset(mnist.train, { end: nSteps * batch }), {
      ...common,
      seed: 2,
      onProgress: terminalProgress(),
    });
    model.dispose();
    const othersCores = meter();
    rows.push({
      configuration: label,
      workers,
      steps: nSteps,
      batch,
      imagesPerSecond: Math.round(r.imagesPerSecond),
      secondsFor6Epochs: Math.round((6 * 60000) / r.imagesPerSecond),
      otherProcessesCores: othersCores,
    });
    return r.imagesPerSecond;
  };
  const parallelWorkers = Number(process.env.DKNN_BENCH_TRAIN_WORKERS ?? 2);
  const wasm = backend.name === 'wasm';
  const native = wasm && nativeGemmStatus().ok;
  // Data-parallel on worker threads: pointless for the tensorflow backend (multi-threaded already).
  const parallelOk = backend.name !== 'tensorflow' && parallelWorkers > 1;
  const fast = await run(
    `${backend.name}${wasm ? ': XNNPACK convolutions, fast gradient kernels' : ''}, 1 thread`,
    'fast',
    steps,
  );
  const parallel = parallelOk
    ? await run(
        `${backend.name}${wasm ? ': XNNPACK convolutions' : ''}, data-parallel (workers: ${parallelWorkers})`,
        'fast',
        steps,
        parallelWorkers,
      )
    : NaN;
  const nat = native ? await run('wasm: native convolutions (onnxruntime MLAS GEMM), 1 thread', 'native', steps) : NaN;
  const natParallel =
    native && parallelOk
      ? await run(
          `wasm: native convolutions, data-parallel (workers: ${parallelWorkers})`,
          'native',
          steps,
          parallelWorkers,
        )
      : NaN;
  let stock = NaN;
  if (wasm)
    stock = await run('wasm: stock kernels (baseline)', 'stock', Number(process.env.DKNN_BENCH_STOCK_STEPS ?? 1));
  if (wasm) setWasmKernelMode(defaultMode === 'package' ? 'fast' : defaultMode);
  for (const r of rows)
    r.ratioVsBaseline = Number.isNaN(stock) ? null : Number((Number(r.imagesPerSecond) / stock).toFixed(1));
  const torch = pytorchTrainSpeed(steps, batch, parallelWorkers);
  if ('imagesPerSecond' in torch) {
    rows.push({
      configuration: `PyTorch ${torch.torch}, ${parallelWorkers} threads (bench/pytorch/train_speed.py)`,
      workers: parallelWorkers,
      steps,
      batch,
      imagesPerSecond: Math.round(torch.imagesPerSecond),
      secondsFor6Epochs: Math.round((6 * 60000) / torch.imagesPerSecond),
      otherProcessesCores: null,
      ratioVsBaseline: null,
    });
  }
  const best = Number.isNaN(natParallel) ? parallel : natParallel;
  const vsTorch = 'imagesPerSecond' in torch && !Number.isNaN(best) ? torch.imagesPerSecond / best : NaN;

  const infer = (mode: SettableWasmKernelMode, label: string) => {
    if (wasm) setWasmKernelMode(mode);
    const model = createMnistCnn({ seed: 1 });
    const test = subset(mnist.test, { end: 5000 });
    predictLogits(model, subset(test, { end: 500 }));
    const t0 = performance.now();
    predictLogits(model, test, { batchSize: 500 });
    const inferSeconds = (performance.now() - t0) / 1000;
    model.dispose();
    rows.push({
      configuration: `${label}: inference (predict logits, batch 500), 1 thread`,
      workers: 1,
      steps: test.n / 500,
      batch,
      imagesPerSecond: Math.round(test.n / inferSeconds),
      secondsFor6Epochs: null,
      otherProcessesCores: null,
      ratioVsBaseline: null,
    });
  };
  infer('fast', wasm ? 'wasm: XNNPACK' : backend.name);
  if (native) infer('native', 'wasm: native convolutions');
  if (wasm) setWasmKernelMode(defaultMode === 'package' ? 'fast' : defaultMode);
  return {
    section: 'train',
    description:
      'MNIST CNN (CleverHans basic CNN), Adam, batch 500: training and inference throughput, beside PyTorch on the same cores',
    rows,
    notes: [
      `engine backend: ${backend.description}`,
      'otherProcessesCores: CPU (cores) other processes used during the timed steps (from /proc/stat); well above 0 means the figure is contended',
      `fast kernels vs stock: ${(fast / stock).toFixed(1)}× training throughput`,
      ...(Number.isNaN(nat)
        ? []
        : [`native convolutions vs XNNPACK, 1 thread: ${(nat / fast).toFixed(2)}× training throughput`]),
      ...(Number.isNaN(parallel)
        ? []
        : [
            `${parallelWorkers} threads vs 1 (XNNPACK): ${(parallel / fast).toFixed(2)}× training throughput (${cpus().length} cores)`,
          ]),
      'imagesPerSecond' in torch
        ? `time per epoch, dknn-ts (${Number.isNaN(natParallel) ? 'XNNPACK' : 'native convolutions'}, ${parallelWorkers} workers) / PyTorch (${parallelWorkers} threads): ${vsTorch.toFixed(2)}× — target ≤ 1.5×: ${vsTorch <= 1.5 ? 'met' : 'NOT met'}`
        : `PyTorch skipped: ${torch.skipped}`,
    ],
    extra: {
      backend,
      fastImagesPerSecond: fast,
      parallelImagesPerSecond: parallel,
      nativeImagesPerSecond: nat,
      nativeParallelImagesPerSecond: natParallel,
      parallelWorkers,
      stockImagesPerSecond: stock,
      pytorch: torch,
      epochTimeVsPytorch: vsTorch,
    },
  };
}

async function benchKnn(): Promise<SectionResult> {
  const r = await benchExact({});
  return {
    section: 'knn',
    description: `exact kNN: ${r.n} × ${r.dim} database, k = ${r.k}, queries scaled to seconds per 1,000`,
    rows: r.rows.map((x) => ({ ...x }) as unknown as Row),
    notes: [
      `js and native identical: ${r.jsNativeIdentical}`,
      `js agrees with the naive baseline on ${(100 * r.naiveAgreement).toFixed(2)} % of neighbors`,
      `native queries searched again (near-ties): ${r.nativeResearched}`,
    ],
    extra: r as unknown as Record<string, unknown>,
  };
}

async function benchDknn(): Promise<SectionResult> {
  const backend = await initBackend();
  const mnist = await loadMnist();
  const trainN = Number(process.env.DKNN_BENCH_TRAIN ?? 60000);
  const evalEnd = Number(process.env.DKNN_BENCH_EVAL_END ?? 10000);
  const sample = Number(process.env.DKNN_BENCH_NAIVE_QUERIES ?? 10);
  const train = subset(mnist.train, { end: trainN });
  const calib = subset(mnist.test, { end: 750 });
  const evalSet = subset(mnist.test, { start: 750, end: evalEnd });
  const { model } = await loadModel(pretrainedPath('mnist-cnn', dataDir()));
  const progress = terminalProgress();
  const rows: Row[] = [];

  // The pipeline as the notebook runs it: exact index (native GEMM when available).
  let dknn: DkNN | null = new DkNN(model, { k: 75 });
  const t0 = performance.now();
  await dknn.fit(train, { onProgress: progress });
  await dknn.calibrate(calib, { onProgress: progress });
  const pred = await dknn.predict(evalSet, { onProgress: progress });
  const total = (performance.now() - t0) / 1000;
  const info = dknn.info();
  const t = info.timings;
  const rssAfterPipeline = peakRssMiB();
  const queries = calib.n + evalSet.n;
  const queryPerInput = (t.calibrate.query + t.predict.query) / queries;
  for (const [name, seconds] of Object.entries(t)) rows.push({ stage: name, seconds: Number(seconds.toFixed(2)) });
  rows.push({ stage: 'pipeline total (fit + calibrate + predict)', seconds: Number(total.toFixed(1)) });
  // Re-scoring (DkNN.rescore): another k, another layer subset, the other formula, from the lists found.
  const freshSearch = t.calibrate.total + t.predict.total;
  const rescoreTimes: Record<string, number> = {};
  for (const [name, o] of [
    ['k = 50', { k: 50 }],
    ['layers ReLU5 + logits', { layers: ['ReLU5', 'logits'] }],
    ['conformal formula', { formula: 'conformal' as const }],
  ] as const) {
    const r0 = performance.now();
    dknn.rescore(pred, o);
    rescoreTimes[name] = (performance.now() - r0) / 1000;
    rows.push({
      stage: `re-score all ${evalSet.n} inputs (and the calibration): ${name}`,
      seconds: Number(rescoreTimes[name].toFixed(3)),
    });
  }
  const slowestRescore = Math.max(...Object.values(rescoreTimes));
  // eslint-disable-next-line no-useless-assignment -- drops the fitted indexes before the baseline allocates its own
  dknn = null;

  // In-run baseline for the kNN stage: the plain-JS brute force on a sample of inputs, same layers.
  const naive = new DkNN(model, { k: 75, index: { name: 'naive-js', create: () => new NaiveIndex() } });
  await naive.fit(train, { onProgress: progress });
  await naive.calibrate(subset(calib, { end: sample }), { onProgress: progress });
  const naivePerInput = naive.info().timings.calibrate.query / sample;
  rows.push({
    stage: `kNN queries per input, exact index (${info.indexBackend})`,
    seconds: Number(queryPerInput.toFixed(4)),
  });
  rows.push({
    stage: `kNN queries per input, plain-JS brute force (baseline, ${sample} inputs)`,
    seconds: Number(naivePerInput.toFixed(3)),
  });
  model.dispose();
  return {
    section: 'dknn',
    description: `clean DkNN pipeline: ${train.n} training images, layers ${info.layers.join('/')} (dims ${info.dims.join('/')}), k = 75, calibrate ${calib.n}, predict ${evalSet.n}`,
    rows,
    notes: [
      `engine backend: ${backend.description}; exact index backend: ${info.indexBackend}; activation cache: ${JSON.stringify(info.cache)}`,
      `DNN accuracy ${accuracy(pred.dnnPredictions, evalSet.labels).toFixed(4)}, DkNN accuracy ${accuracy(pred.predictions, evalSet.labels).toFixed(4)} on ${evalSet.n} evaluation images`,
      `kNN stage speed-up over the plain-JS brute force: ${(naivePerInput / queryPerInput).toFixed(0)}× (${queryPerInput.toFixed(4)} vs ${naivePerInput.toFixed(3)} s per input, all ${info.layers.length} layers)`,
      `peak RSS after the pipeline: ${rssAfterPipeline.toFixed(0)} MiB (one process, no second copy of the activations)`,
      `re-scoring for another k, layer subset or formula: at most ${slowestRescore.toFixed(3)} s, ${(freshSearch / slowestRescore).toFixed(0)}× faster than calibrating and predicting again (${freshSearch.toFixed(1)} s)`,
    ],
    extra: { info, total, queryPerInput, naivePerInput, rescoreTimes, freshSearch },
  };
}

function markdown(r: SectionResult, meta: Record<string, unknown>): string {
  const cols = [...new Set(r.rows.flatMap((x) => Object.keys(x)))];
  const fmt = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v ?? ''));
  return [
    `# bench: ${r.section}`,
    '',
    r.description,
    '',
    `| ${cols.join(' | ')} |`,
    `| ${cols.map(() => '---').join(' | ')} |`,
    ...r.rows.map((x) => `| ${cols.map((c) => fmt(x[c])).join(' | ')} |`),
    '',
    ...r.notes.map((n) => `- ${n}`),
    '',
    `Run: ${Object.entries(meta)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ')}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const sections: Record<string, () => Promise<SectionResult | null>> = {
    train: benchTrain,
    knn: benchKnn,
    dknn: benchDknn,
    'knn-backends': benchKnnBackends,
    attacks: async () => (await benchAttacks()) as unknown as SectionResult,
    'dknn-backends': benchDknnBackends,
    'vs-pytorch': benchVsPytorch,
    seeds: benchSeeds,
    'wasm-kernels': benchWasmKernels,
    'guided-steps': benchGuidedSteps,
    'gradient-free': benchGradientFree,
    setup: benchSetup,
    tweak: benchTweak,
    'tweak-page': benchTweakPage,
    onnx: benchOnnx,
    reproduce: benchReproduce,
  };
  const names = wanted.length ? wanted : ['train'];
  for (const n of names)
    if (!sections[n])
      throw new Error(
        `bench: unknown section ${JSON.stringify(n)}; expected one of ${Object.keys(sections).join(', ')}`,
      );
  const dir = join(repoRoot(), 'bench', 'results');
  for (const name of names) {
    const load = loadavg()[0];
    const t0 = performance.now();
    const r = await sections[name]();
    if (r === null) continue; // skipped (the section said why)
    const meta = {
      commit: gitCommit(),
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? '?',
      cores: cpus().length,
      loadAverageAtStart: load,
      seconds: ((performance.now() - t0) / 1000).toFixed(1),
      peakRssMiB: peakRssMiB().toFixed(0),
    };
    writeFileAtomic(join(dir, `${name}.json`), `${JSON.stringify({ ...r, meta }, null, 2)}\n`);
    writeFileAtomic(join(dir, `${name}.md`), markdown(r, meta));
    process.stdout.write(markdown(r, meta));
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
