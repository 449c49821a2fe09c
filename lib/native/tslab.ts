/**
 * The one adapter to tslab's internals: the running kernel's display functions. tslab has no
 * public "am I in a kernel" call; its jupyter module's `lastWriteDisplayData` is set only inside a
 * running kernel, so that is what tells. The running kernel's own copy of tslab is used (found
 * among the loaded modules), so a library installed beside a kernel from elsewhere (a global
 * tslab, another project's) still displays in it; else the `tslab` this library resolves.
 */
import { dirname, join } from 'node:path';

/** A tslab display: writes HTML, markdown or a PNG as a cell output. */
export interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  png(b: Uint8Array): void;
}

type Tslab = { display: TslabDisplay; newDisplay(): TslabDisplay };

/** The paths of tslab's jupyter module and public API: the loaded (running) copy's, else the resolvable one's. */
function tslabPaths(): { jupyter: string; api: string } {
  const loaded = Object.keys(require.cache).find((f) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(f));
  if (loaded) return { jupyter: loaded, api: join(dirname(loaded), 'public.js') };
  return { jupyter: require.resolve('tslab/dist/jupyter'), api: require.resolve('tslab') };
}

/** The running tslab kernel's display functions, or null outside a kernel (tests, scripts). */
export function tslabKernel(): Tslab | null {
  try {
    const paths = tslabPaths();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require(paths.jupyter) as { lastWriteDisplayData: unknown };
    if (jupyter.lastWriteDisplayData == null) return null;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(paths.api) as Tslab;
  } catch {
    return null;
  }
}
