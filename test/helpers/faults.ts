/**
 * Fault injection for the tests, through the one seam every writer and verified reader of the lib
 * goes through (lib/artifacts/atomic.ts: `writeFilesAtomic`, `readFileBytes`, `readBytesAt`):
 * the Nth file write fails with ENOSPC or EIO once half its bytes reached the temp file; the Nth
 * read returns damaged bytes (a bit flipped, a zero-filled block, or only its first half); the
 * process dies between the Nth temp file and its rename (process.exit, SIGKILL, or a signal it
 * sends itself); a signal arrives halfway through the Nth file write.
 *
 * Counting starts when the plan is installed, and counts every file (writes, renames) and every
 * read call (a verified reader may read a file in several calls) of this process.
 */
import { appendFileSync, readdirSync } from 'node:fs';
import { setFaultHooks } from '../../lib/artifacts/atomic';

/** The system errors a write can be made to fail with. */
export type WriteFault = 'ENOSPC' | 'EIO';
/** How a read is damaged. `truncate`: only the first half of the bytes comes back (a short read, or a half-written file). */
export type ReadDamage = 'flip' | 'zero' | 'truncate';
/** How a process dies between writing a temp file and renaming it. */
export type Death = 'exit' | 'SIGKILL' | 'SIGINT';

/** What goes wrong, and when (1-based counts of this process's file writes, read calls and renames). */
export interface FaultPlan {
  failWrite?: { nth: number; code: WriteFault };
  damageRead?: { nth: number; how: ReadDamage };
  dieBeforeRename?: { nth: number; how: Death };
  /** The signal is sent to this process halfway through the Nth file write. */
  signalDuringWrite?: { nth: number; signal: 'SIGINT' | 'SIGTERM' };
}

/** An installed plan: the operations seen so far, the faults that fired, and `restore`. */
export interface Faults {
  writes: number;
  reads: number;
  renames: number;
  /** One line per fault that fired, e.g. `ENOSPC writing /tmp/x/model.json`. */
  fired: string[];
  /** Removes the hooks (the plan stops). */
  restore(): void;
}

const MESSAGES: Record<WriteFault, string> = {
  ENOSPC: 'ENOSPC: no space left on device, write',
  EIO: 'EIO: i/o error, write',
};

/** An error as Node's fs throws it for `code`. */
export function systemError(code: WriteFault): NodeJS.ErrnoException {
  return Object.assign(new Error(MESSAGES[code]), { code, errno: code === 'ENOSPC' ? -28 : -5, syscall: 'write' });
}

function damage(bytes: Uint8Array, how: ReadDamage): Uint8Array | void {
  if (bytes.byteLength === 0) return;
  const mid = bytes.byteLength >> 1;
  if (how === 'flip') bytes[mid] ^= 0x10;
  else if (how === 'zero') bytes.fill(0, mid, Math.min(bytes.byteLength, mid + 64));
  else return bytes.slice(0, mid);
}

/** Installs `plan` (an empty plan only counts); the caller calls `restore()`. */
export function injectFaults(plan: FaultPlan = {}): Faults {
  const f: Faults = { writes: 0, reads: 0, renames: 0, fired: [], restore: () => setFaultHooks(previous) };
  let halfway = false;
  const previous = setFaultHooks({
    write: ({ path, tmp, chunk, offset, total }) => {
      if (offset === 0) {
        f.writes++;
        halfway = false;
      }
      // The chunk holding the file's middle byte (the first chunk when the file is that small).
      const middle = total >> 1;
      if (halfway || offset + chunk.byteLength <= middle) return;
      halfway = true;
      const s = plan.signalDuringWrite;
      if (s && f.writes === s.nth) {
        f.fired.push(`${s.signal} while writing ${path}`);
        process.kill(process.pid, s.signal);
      }
      const w = plan.failWrite;
      if (w && f.writes === w.nth) {
        appendFileSync(tmp, chunk.subarray(0, middle - offset)); // the first half reached the disk, then the failure
        f.fired.push(`${w.code} writing ${path}`);
        throw systemError(w.code);
      }
    },
    rename: ({ path }) => {
      f.renames++;
      const d = plan.dieBeforeRename;
      if (!d || f.renames !== d.nth) return;
      f.fired.push(`${d.how} before renaming ${path}`);
      if (d.how === 'exit') process.exit(3);
      process.kill(process.pid, d.how);
    },
    read: ({ path, bytes }) => {
      f.reads++;
      const r = plan.damageRead;
      if (!r || f.reads !== r.nth) return;
      f.fired.push(`${r.how} reading ${path}`);
      return damage(bytes, r.how);
    },
  });
  return f;
}

/** Runs `fn` under `plan`; returns its result or error and what the plan saw. The hooks are removed after. */
export async function withFaults<T>(
  plan: FaultPlan,
  fn: () => T | Promise<T>,
): Promise<{ value?: T; error?: Error; faults: Faults }> {
  const faults = injectFaults(plan);
  try {
    return { value: await fn(), faults };
  } catch (err) {
    return { error: err as Error, faults };
  } finally {
    faults.restore();
  }
}

/** How many chunk writes, reads and renames `fn` does (no fault injected). */
export async function countOperations(fn: () => unknown): Promise<{ writes: number; reads: number; renames: number }> {
  const { error, faults } = await withFaults({}, fn);
  if (error) throw error;
  return { writes: faults.writes, reads: faults.reads, renames: faults.renames };
}

/** Temp files (`*.tmp`) under `dir`, searched recursively; [] when it does not exist. */
export function tempFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'));
  } catch {
    return [];
  }
}
