import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Node refuses single reads/writes over 2 GiB; every write here goes in chunks of at most this. */
export const IO_CHUNK_BYTES = 256 * 1024 * 1024;

/**
 * Writes `parts` (concatenated) to `path` atomically: everything goes to `path.<pid>.tmp`, which is
 * fsynced and then renamed over `path`. A reader never sees a half-written file; on failure the
 * temp file is removed and the previous `path` (if any) is untouched. Parent folders are created.
 */
export function writeFileAtomic(path: string, ...parts: (Uint8Array | ArrayBufferView | string)[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const part of parts) {
      const bytes =
        typeof part === 'string'
          ? Buffer.from(part, 'utf8')
          : new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
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
