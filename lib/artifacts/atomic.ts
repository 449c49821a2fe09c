/**
 * Writing files so that nothing half-written is ever read back: a temp file next to the target,
 * fsynced, then renamed over it; every writer of the lib goes through {@link writeFileAtomic} or
 * {@link writeFilesAtomic}, and the verified readers read through {@link readFileBytes} and
 * {@link readBytesAt}. Every error names the file. Temp files are removed when a write fails, when
 * the process exits, and (for processes that died mid-write) the next time anything is written
 * into that folder. SIGINT and SIGTERM arriving while a temp file exists are acted on once it is
 * renamed or removed (a write is synchronous: an interrupt waits for it to end, a second or so for
 * a large cache entry), and the process then ends as the signal would have ended it.
 *
 * {@link setFaultHooks} is the seam where tests inject faults (test/helpers/faults.ts); it is not
 * part of the public API.
 */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { bytesOf, IO_CHUNK_BYTES } from './keys';

const TEMP_NAME = /\.(\d+)\.tmp$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates folder `dir` and its missing parents one level at a time (Node's recursive mkdir can
 * spin forever under /proc), after checking that the nearest existing ancestor is a writable folder.
 * @throws Error naming the folder and why it cannot hold files.
 */
export function ensureDir(dir: string): void {
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(at).isDirectory();
    } catch {
      missing.push(at);
      const up = dirname(at);
      if (up === at) throw new Error(`cannot create ${target}: no existing ancestor folder`);
      at = up;
      continue;
    }
    if (!isDir) throw new Error(`cannot write into ${target}: ${at} exists and is not a folder`);
    break;
  }
  if (missing.length === 0) {
    try {
      accessSync(target, constants.W_OK);
    } catch {
      throw new Error(`cannot write into ${target}: the folder is not writable`);
    }
    return;
  }
  try {
    accessSync(at, constants.W_OK);
  } catch {
    throw new Error(`cannot create ${target}: ${at} is not writable`);
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(`cannot create ${d}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * Checks, before long work starts, that files can be written into `dir` (created if missing): a
 * probe file is created and removed. @throws Error naming the folder and the reason.
 */
export function checkWritableDir(dir: string): void {
  ensureDir(dir);
  const probe = join(resolve(dir), `.write-probe.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, 'w'));
  } catch (err) {
    throw new Error(
      `cannot write into ${resolve(dir)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  rmSync(probe, { force: true });
}

/** Removes `<name>.<pid>.tmp` files in `dir` whose process no longer runs; returns their names. */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

/** A write or read that failed, naming the file; `code` is the system error's (ENOSPC, EIO, …) when there was one. */
export class FileIoError extends Error {
  override name = 'FileIoError';
  readonly code: string | undefined;
  constructor(
    readonly path: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

const ioFailure = (verb: 'write' | 'read', path: string, err: unknown): FileIoError =>
  err instanceof FileIoError
    ? err
    : new FileIoError(path, `cannot ${verb} ${path}: ${(err as Error).message ?? String(err)}`, err);

/**
 * Where tests inject faults (test/helpers/faults.ts), called at each step of every atomic write
 * and verified read. A hook that throws fails the operation there, as a failing system call would.
 */
export interface FaultHooks {
  /** Before each chunk of `path`'s temp file `tmp` is written: `offset` bytes of the file's `total` are written. */
  write?: (at: { path: string; tmp: string; chunk: Uint8Array; offset: number; total: number }) => void;
  /** After the temp file of `path` is complete and synced, before it is renamed over `path`. */
  rename?: (at: { path: string; tmp: string }) => void;
  /** After `bytes` were read from `path`: it may change them, or return other bytes (e.g. fewer: a short read). */
  read?: (at: { path: string; bytes: Uint8Array }) => Uint8Array | void;
}

let hooks: FaultHooks = {};

/** Installs fault hooks (tests only); returns the ones they replace. Pass `{}` to remove them. */
export function setFaultHooks(next: FaultHooks): FaultHooks {
  const previous = hooks;
  hooks = next;
  return previous;
}

/** Temp files of this process that exist now (written, not yet renamed or removed). */
const inFlight = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let listening = false;
let exitHooked = false;
/** Counts writes, so that only the latest one lets the signals go. */
let generation = 0;

function removeInFlight(): void {
  for (const tmp of inFlight) rmSync(tmp, { force: true });
  inFlight.clear();
}

function stopListening(): void {
  if (!listening) return;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  listening = false;
}

/**
 * A signal that arrived during a write (the write, being synchronous, has ended by now): temp files
 * are removed; when nothing else listens for the signal, the process ends as the signal would have
 * ended it (killed by it; 128 + its number should the kill not act at once).
 */
function onSignal(signal: NodeJS.Signals): void {
  removeInFlight();
  const others = process.listenerCount(signal) > 1;
  stopListening();
  if (others) return;
  process.kill(process.pid, signal);
  process.exit(128 + (osConstants.signals[signal] ?? 0));
}

/** Holds SIGINT/SIGTERM (main thread only) while a temp file exists (see {@link letSignalsGo}). */
function holdSignals(): void {
  if (!exitHooked) {
    process.on('exit', removeInFlight);
    exitHooked = true;
  }
  if (!isMainThread || listening) return;
  for (const s of SIGNALS) process.on(s, onSignal);
  listening = true;
}

/**
 * Lets the signals go after the latest write, once the event loop has polled (where a signal that
 * came during the write reaches {@link onSignal}): an immediate queued from an immediate runs
 * after at least one poll, whichever phase the write ran in.
 */
function letSignalsGo(): void {
  if (!listening || inFlight.size > 0) return;
  const mine = ++generation;
  setImmediate(() =>
    setImmediate(() => {
      if (mine === generation && inFlight.size === 0) stopListening();
    }),
  );
}

/** Writes `parts` to the temp file `tmp` of `path`, fsynced; on failure removes it. */
function writeTemp(path: string, tmp: string, parts: (Uint8Array | ArrayBufferView | string)[]): void {
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw ioFailure('write', path, err);
  }
  inFlight.add(tmp);
  try {
    const all = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : bytesOf(part)));
    const total = all.reduce((sum, b) => sum + b.byteLength, 0);
    let offset = 0;
    for (const bytes of all) {
      for (let off = 0; off < bytes.byteLength; off += IO_CHUNK_BYTES) {
        const chunk = bytes.subarray(off, Math.min(bytes.byteLength, off + IO_CHUNK_BYTES));
        hooks.write?.({ path, tmp, chunk, offset, total });
        let written = 0;
        while (written < chunk.byteLength) written += writeSync(fd, chunk, written);
        offset += chunk.byteLength;
      }
    }
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed, or the close failed too: the write has failed either way
    }
    rmSync(tmp, { force: true });
    inFlight.delete(tmp);
    throw ioFailure('write', path, err);
  }
}

/** One file of {@link writeFilesAtomic}: its path and its content (concatenated). */
export interface FileContent {
  path: string;
  parts: (Uint8Array | ArrayBufferView | string)[];
}

/**
 * Writes several files that belong together (a model's weights and model.json): every temp file
 * is written and fsynced first, then they are renamed in order. A failed write (disk full, I/O
 * error) leaves every previous file untouched; only a death between two renames can leave a mix,
 * which a reader checking a checksum across the files refuses. Parent folders are created, and
 * temp files of dead processes there are removed first. Writes go in chunks (Node refuses single
 * writes over 2 GiB).
 * @throws FileIoError naming the file that could not be written; no temp file is left.
 */
export function writeFilesAtomic(files: FileContent[]): void {
  const temps: string[] = [];
  holdSignals();
  try {
    for (const { path, parts } of files) {
      const dir = dirname(resolve(path));
      try {
        ensureDir(dir);
      } catch (err) {
        throw new FileIoError(path, `cannot write ${path}: ${(err as Error).message}`, err);
      }
      removeStaleTempFiles(dir);
      const tmp = join(dir, `${basename(path)}.${process.pid}.tmp`);
      writeTemp(path, tmp, parts);
      temps.push(tmp);
    }
    files.forEach(({ path }, i) => {
      try {
        hooks.rename?.({ path, tmp: temps[i] });
        renameSync(temps[i], path);
      } catch (err) {
        throw ioFailure('write', path, err);
      }
      inFlight.delete(temps[i]);
    });
  } finally {
    for (const tmp of temps) {
      if (!inFlight.delete(tmp)) continue;
      rmSync(tmp, { force: true });
    }
    letSignalsGo();
  }
}

/**
 * Writes `parts` (concatenated) to `path` atomically: everything goes to `path.<pid>.tmp`, which is
 * fsynced and then renamed over `path`. A reader never sees a half-written file; on failure the
 * temp file is removed and the previous `path` (if any) is untouched. Parent folders are created,
 * and temp files of dead processes in that folder are removed first.
 * @throws FileIoError naming `path` and the reason (ENOSPC, EIO, EISDIR, …).
 */
export function writeFileAtomic(path: string, ...parts: (Uint8Array | ArrayBufferView | string)[]): void {
  writeFilesAtomic([{ path, parts }]);
}

/** The bytes of the file `path`. @throws FileIoError naming it (missing, unreadable). */
export function readFileBytes(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw ioFailure('read', path, err);
  }
  const other = hooks.read?.({ path, bytes });
  return other ? Buffer.from(other) : bytes;
}

/**
 * Reads up to `at.length` bytes of the open file `fd` (which is `at.path`) at `at.position` into
 * `target` from `at.offset`; returns how many were read. @throws FileIoError naming the file.
 */
export function readBytesAt(
  fd: number,
  target: Uint8Array,
  at: { path: string; offset: number; length: number; position: number },
): number {
  let got: number;
  try {
    got = readSync(fd, target, at.offset, at.length, at.position);
  } catch (err) {
    throw ioFailure('read', at.path, err);
  }
  const other = hooks.read?.({ path: at.path, bytes: target.subarray(at.offset, at.offset + got) });
  if (!other) return got;
  const n = Math.min(other.byteLength, at.length);
  target.set(other.subarray(0, n), at.offset);
  return n;
}
