/**
 * The one worker machinery of the lib: a {@link WorkerPool} starts worker threads on one script,
 * waits for each to say it is ready, routes their replies, and turns a worker's error message, crash
 * or early exit into one failure that every caller sees; {@link runWorkerJobs} runs a list of jobs
 * on a pool, each worker fed its next job as it finishes one. Every pool of the lib is one of these:
 * the extraction pool (`activations/pool.ts`), the training gradient pool (`training/parallel.ts`),
 * crafting (`attacks/parallel.ts`), the guided attack (`attacks/dknn-attack.ts`) and the parallel
 * LSH build (`knn/lsh/build.ts`).
 *
 * The protocol every worker speaks: `{ type: 'ready' }` once started, `{ type: 'error', message }`
 * on a failure, and its own replies otherwise (`serveJobs` in `serve.ts` is the worker side).
 */
import { Worker, type Transferable } from 'node:worker_threads';

/** What every worker may send. */
export interface JobReply {
  type: string;
  message?: string;
  /** With `type: 'error'`: the worker's stack, when it has one. */
  stack?: string;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions<R extends JobReply> {
  /** From `workerEntry`. */
  script: string;
  evalCode: boolean;
  /** Each worker's `workerData` (the same for all, or by worker index 0 … threads − 1). */
  workerData: unknown | ((index: number) => unknown);
  threads: number;
  /** Thread names are `${name}-1`, `${name}-2`, …; failures name the worker as `${what} 1`, …. */
  name: string;
  what: string;
  /** Receives every reply that is neither 'ready' nor 'error' (worker index 0-based). */
  onReply(index: number, reply: R): void;
  /** Receives each worker's 'ready' reply. */
  onReady?(index: number, reply: R): void;
  /** Ends the message of a worker that exits on its own: "… exited with code C before ${unfinished}". */
  unfinished?: string;
}

/** Worker threads on one script (see the module comment). */
export class WorkerPool<R extends JobReply = JobReply> {
  private readonly workers: Worker[] = [];
  private failed: Error | null = null;
  private closing = false;
  private readonly failureListeners: ((e: Error) => void)[] = [];
  /** Resolves when every worker is ready; rejects with the first failure. */
  readonly ready: Promise<void>;

  constructor(private readonly o: WorkerPoolOptions<R>) {
    const readies: Promise<void>[] = [];
    for (let i = 0; i < o.threads; i++) {
      const workerData =
        typeof o.workerData === 'function' ? (o.workerData as (i: number) => unknown)(i) : o.workerData;
      const w = new Worker(o.script, {
        eval: o.evalCode,
        workerData,
        execArgv: process.execArgv,
        name: `${o.name}-${i + 1}`,
      });
      this.workers.push(w);
      readies.push(this.watch(w, i));
    }
    this.ready = Promise.all(readies).then(() => undefined);
    this.ready.catch(() => undefined); // a failure also reaches `failure` and the listeners
  }

  private watch(w: Worker, i: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => {
        reject(e);
        this.fail(e);
      };
      w.on('message', (m: R) => {
        if (m.type === 'ready') {
          this.o.onReady?.(i, m);
          return resolve();
        }
        if (m.type === 'error') {
          const e = new Error(`${this.o.what} ${i + 1} failed: ${m.message}`);
          if (m.stack) e.stack = `${e.message}\n--- in the worker ---\n${m.stack}`;
          return fail(e);
        }
        this.o.onReply(i, m);
      });
      w.on('error', (e) => fail(new Error(`${this.o.what} ${i + 1} failed: ${e.message}`, { cause: e })));
      w.on('messageerror', (e) =>
        fail(new Error(`${this.o.what} ${i + 1}: a message could not be read: ${e.message}`)),
      );
      w.on('exit', (code) => {
        const before = this.o.unfinished ? ` before ${this.o.unfinished}` : '';
        if (!this.closing) fail(new Error(`${this.o.what} ${i + 1} exited with code ${code}${before}`));
      });
    });
  }

  private fail(e: Error): void {
    if (this.failed || this.closing) return;
    this.failed = e;
    for (const listen of this.failureListeners) listen(e);
  }

  /** The first failure of a worker, or null. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Calls `listen` once with the first failure (at once if there is one already). */
  onFailure(listen: (e: Error) => void): void {
    if (this.failed) listen(this.failed);
    else this.failureListeners.push(listen);
  }

  /** Worker threads running (0 once closed). */
  get size(): number {
    return this.workers.length;
  }

  /** Posts `message` to worker `index`. */
  post(index: number, message: unknown, transfer: readonly Transferable[] = []): void {
    this.workers[index].postMessage(message, transfer);
  }

  /** Whether idle workers keep the process alive (`true` while busy, `false` between calls). */
  keepAlive(alive: boolean): void {
    for (const w of this.workers) {
      if (alive) w.ref();
      else w.unref();
    }
  }

  /** Terminates every worker (a later exit is not a failure). */
  async close(): Promise<void> {
    this.closing = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Options of {@link runWorkerJobs}. */
export interface WorkerJobsOptions<R extends JobReply> extends Omit<WorkerPoolOptions<R>, 'onReply' | 'onReady'> {
  /** Jobs sent to a worker when it is ready, so that it never waits for the next one. Default 1. */
  inFlight?: number;
  /** Jobs, numbered 0 … jobs − 1. */
  jobs: number;
  /** Sends job `job` to worker `index` of `pool`. */
  send(pool: WorkerPool<R>, index: number, job: number): void;
  /** Handles a reply that is neither 'ready' nor 'error'; true when it finished a job. */
  receive(m: R): boolean;
}

/** Runs every job on a pool of at most one worker per job (see the module comment); rejects with the first worker failure. */
export async function runWorkerJobs<R extends JobReply>(o: WorkerJobsOptions<R>): Promise<void> {
  if (o.jobs === 0) return;
  let next = 0;
  let done = 0;
  let resolveAll!: () => void;
  const finished = new Promise<void>((resolve) => (resolveAll = resolve));
  const feed = (index: number) => {
    if (!pool.failure && next < o.jobs) o.send(pool, index, next++);
  };
  const pool: WorkerPool<R> = new WorkerPool<R>({
    ...o,
    threads: Math.min(o.threads, o.jobs),
    onReady: (index) => {
      for (let j = 0; j < (o.inFlight ?? 1); j++) feed(index);
    },
    onReply: (index, m) => {
      if (!o.receive(m)) return;
      if (++done === o.jobs) resolveAll();
      else feed(index);
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      pool.onFailure(reject);
      finished.then(resolve, reject);
    });
  } finally {
    await pool.close();
  }
}
