/**
 * Writing files so that nothing half-written is ever read back: a temp file next to the target,
 * fsynced, then renamed over it. Temp files left by processes that died mid-write are removed the
 * next time anything is written into that folder.
 */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
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

/**
 * Writes `parts` (concatenated) to `path` atomically: everything goes to `path.<pid>.tmp`, which is
 * fsynced and then renamed over `path`. A reader never sees a half-written file; on failure the
 * temp file is removed and the previous `path` (if any) is untouched. Parent folders are created,
 * and temp files of dead processes in that folder are removed first. Writes go in chunks (Node
 * refuses single writes over 2 GiB).
 */
export function writeFileAtomic(path: string, ...parts: (Uint8Array | ArrayBufferView | string)[]): void {
  const dir = dirname(resolve(path));
  ensureDir(dir);
  removeStaleTempFiles(dir);
  const tmp = join(dir, `${basename(path)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (err) {
    throw new Error(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  try {
    for (const part of parts) {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : bytesOf(part);
      for (let off = 0; off < bytes.byteLength; off += IO_CHUNK_BYTES) {
        const chunk = bytes.subarray(off, Math.min(bytes.byteLength, off + IO_CHUNK_BYTES));
        let written = 0;
        while (written < chunk.byteLength) written += writeSync(fd, chunk, written);
      }
    }
    fsyncSync(fd);
    closeSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, path);
}
