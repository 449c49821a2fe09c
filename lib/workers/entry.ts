/**
 * How to start a worker-thread script of the lib: the compiled `.js` (lib/dist) directly, or the
 * `.ts` source under tsx. Node 20 does not apply `--import` loader hooks to a worker's entry
 * module, so from source the worker registers tsx's CommonJS hook itself first.
 */

import { extname, join } from 'node:path';

/**
 * @param dir the directory of the calling module (`__dirname`)
 * @param callerFile the calling module (`__filename`): its extension says source or build
 * @param base the worker module's name without extension, next to the caller
 * @param what who needs it, for the error message
 * @throws Error when running from source and `tsx/cjs` cannot be resolved.
 */
export function workerEntry(
  dir: string,
  callerFile: string,
  base: string,
  what: string,
): { script: string; evalCode: boolean } {
  const ext = extname(callerFile);
  const file = join(dir, `${base}${ext}`);
  if (ext !== '.ts') return { script: file, evalCode: false };
  let tsx: string;
  try {
    tsx = require.resolve('tsx/cjs', { paths: [dir, process.cwd()] });
  } catch {
    throw new Error(
      `${what} from TypeScript source needs tsx to load ${file} in a worker thread, but 'tsx/cjs' cannot be resolved; build the lib (npm run build) and use lib/dist`,
    );
  }
  return { script: `require(${JSON.stringify(tsx)});\nrequire(${JSON.stringify(file)});\n`, evalCode: true };
}
