/**
 * The one adapter to tslab's internals: the running kernel's display functions. tslab has no
 * public "am I in a kernel" call; its jupyter module's `lastWriteDisplayData` is set only inside a
 * running kernel, so that is what tells.
 */

/** A tslab display: writes HTML, markdown or a PNG as a cell output. */
export interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  png(b: Uint8Array): void;
}

/** The running tslab kernel's display functions, or null outside a kernel (tests, scripts). */
export function tslabKernel(): { display: TslabDisplay; newDisplay(): TslabDisplay } | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: unknown };
    if (jupyter.lastWriteDisplayData == null) return null;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('tslab') as { display: TslabDisplay; newDisplay(): TslabDisplay };
  } catch {
    return null;
  }
}
