/**
 * Jobs spread over worker threads, each worker fed its next job as it finishes one: the loop that
 * crafting (`attacks/parallel.ts`), the guided attack (`attacks/dknn-attack.ts`) and the parallel
 * LSH build (`knn/lsh-build.ts`) share. The
 * workers speak one protocol: `{ type: 'ready' }` once started, `{ type: 'error', message }` on a
 * failure, and their own replies otherwise. Every worker is terminated when the jobs are done or
 * one fails.
 */
import { Worker } from 'node:worker_threads';

/** What every job worker may send. */
export interface JobReply {
  type: string;
  message?: string;
}

/** Options of {@link runWorkerJobs}. */
export interface WorkerJobsOptions<R extends JobReply> {
  /** From `workerEntry`. */
  script: string;
  evalCode: boolean;
  workerData: unknown;
  /** Threads to start (at most one per job). */
  threads: number;
  /** Jobs sent to a worker when it is ready, so that it never waits for the next one. Default 1. */
  inFlight?: number;
  /** Jobs, numbered 0 … jobs − 1. */
  jobs: number;
  /** Thread names are `${name}-1`, `${name}-2`, …; errors name the worker as `${what} 1`, …. */
  name: string;
  what: string;
  /** Ends the message of a worker that exits early: "… exited with code C before ${unfinished}". */
  unfinished: string;
  /** Sends job `job` to `w`. */
  send(w: Worker, job: number): void;
  /** Handles a reply that is neither 'ready' nor 'error'; true when it finished a job. */
  receive(m: R): boolean;
}

/** Runs every job (see the module comment); rejects with the first worker failure. */
export async function runWorkerJobs<R extends JobReply>(o: WorkerJobsOptions<R>): Promise<void> {
  if (o.jobs === 0) return;
  const threads: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let failed = false;
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const feed = (w: Worker) => {
        if (!failed && next < o.jobs) o.send(w, next++);
      };
      for (let i = 0; i < Math.min(o.threads, o.jobs); i++) {
        const w = new Worker(o.script, {
          eval: o.evalCode,
          workerData: o.workerData,
          execArgv: process.execArgv,
          name: `${o.name}-${i + 1}`,
        });
        threads.push(w);
        w.on('message', (m: R) => {
          if (m.type === 'error') return fail(new Error(`${o.what} ${i + 1} failed: ${m.message}`));
          if (m.type === 'ready') {
            for (let j = 0; j < (o.inFlight ?? 1); j++) feed(w);
            return;
          }
          if (!o.receive(m)) return;
          if (++done === o.jobs) resolve();
          else feed(w);
        });
        w.on('error', (e) => fail(new Error(`${o.what} ${i + 1} failed: ${e.message}`)));
        w.on('exit', (code) => {
          if (done < o.jobs) fail(new Error(`${o.what} ${i + 1} exited with code ${code} before ${o.unfinished}`));
        });
      }
    });
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
}
