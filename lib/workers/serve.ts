/**
 * The worker side of `pool.ts`: a worker script calls {@link serveWorker} once with its set-up.
 * The set-up gets the worker's data and a `reply` function and returns the message handler; when it
 * resolves the worker says `{ type: 'ready' }` (with the set-up's extra fields), and any failure, in
 * the set-up or in a handler, goes back as `{ type: 'error', message, stack }` for the pool to
 * report, naming the worker.
 */
import { parentPort, workerData, type Transferable } from 'node:worker_threads';

/** Sends a reply to the pool (transferring `transfer`'s buffers). */
export type Reply<R> = (m: R, transfer?: readonly Transferable[]) => void;

/**
 * Serves the messages of this worker thread (see the module comment).
 * @param what who starts this worker, for the message when the script is run outside a worker thread
 */
export function serveWorker<D, M, R extends { type: string }>(
  what: string,
  setup: (
    data: D,
    reply: Reply<R | { type: 'ready' | 'error'; message?: string; stack?: string }>,
  ) => Promise<{
    handle: (m: M) => void | Promise<void>;
    ready?: Record<string, unknown>;
  }>,
): void {
  const port = parentPort;
  if (!port) throw new Error(`this script runs in a worker thread started by ${what}, not on its own`);
  const reply = (m: unknown, transfer: readonly Transferable[] = []) => port.postMessage(m, transfer);
  const fail = (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    reply({ type: 'error', message: err.message, stack: err.stack });
  };
  setup(workerData as D, reply).then(({ handle, ready }) => {
    port.on('message', (m: M) => {
      try {
        const done = handle(m);
        if (done) done.catch(fail);
      } catch (e) {
        fail(e);
      }
    });
    reply({ type: 'ready', ...ready });
  }, fail);
}
