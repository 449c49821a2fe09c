/**
 * The artefact cache: arrays computed from known inputs (activations, adversarial sets, benchmark
 * data) stored under `<dir>/<kind>/<key>.bin`, where the key is the sha256 of the inputs
 * ({@link cacheKey}). Each entry is a verified {@link writeContainer} file that also records the
 * inputs themselves, so a read returns values only when the file is intact and was made from the
 * same inputs. A damaged entry (checksum, inputs, length, or a value that is not finite) is a miss
 * with one warning naming the file (and is then rewritten by the caller), never a hit. An entry
 * that cannot be written (disk full, I/O error) is one warning naming the file, after which the
 * cache writes nothing more: the run goes on without caching.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkWritableDir, FileIoError } from './atomic';
import { ContainerError, readContainer, writeContainer } from './container';
import { cacheKey, canonicalJson } from './keys';
import { defaultCacheDir } from './repo';

/** What an artifact is stored under: its kind (a folder) and everything it was computed from (JSON data). */
export interface CacheKey {
  kind: string;
  parts: Record<string, unknown>;
}

/** Options of {@link ArtifactCache}. */
export interface ArtifactCacheOptions {
  /** Cache folder; `false` turns caching off (every read misses, writes do nothing). Default `<repo>/.cache`. */
  dir?: string | false;
  /** Receives one line per damaged entry found, and one when an entry cannot be written. Default `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/** A cache hit: the values and what was recorded with them. */
export interface CacheHit {
  values: Float32Array;
  meta: Record<string, unknown>;
}

/** The artefact cache (see the module comment). */
export class ArtifactCache {
  /** The folder, or false when caching is off. */
  readonly dir: string | false;
  private readonly warn: (message: string) => void;
  /** Why writing stopped (the first write that failed), or null while writes go on. */
  private writesOff: string | null = null;

  constructor(options: ArtifactCacheOptions = {}) {
    if (options.dir === '') throw new Error(`cache dir: expected a folder path or false, found ''`);
    this.dir = options.dir === undefined ? defaultCacheDir() : options.dir;
    this.warn = options.onWarning ?? ((m) => process.emitWarning(m, 'DkNNCacheWarning'));
  }

  /** The key of the artefact computed from `parts` (JSON data). */
  key(parts: Record<string, unknown>): string {
    return cacheKey(parts);
  }

  /** Where the artifact of `key` is (or would be) stored; null when caching is off. */
  path(key: CacheKey): string | null {
    const { kind, parts } = key;
    if (this.dir === false) return null;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(kind))
      throw new Error(`cache kind must be lower-case letters, digits and dashes, found ${JSON.stringify(kind)}`);
    return join(this.dir, kind, `${cacheKey(parts)}.bin`);
  }

  /**
   * The stored values of `key`, holding `length` float32 values, or undefined: no entry, or an
   * entry that is damaged, made from other inputs or of another length (these three warn once,
   * naming the file). With `into`, values are read into it (a view is returned).
   */
  read(key: CacheKey, options: { length: number; into?: Float32Array }): CacheHit | undefined {
    const { parts } = key;
    const { length } = options;
    const path = this.path(key);
    if (path === null || !existsSync(path)) return undefined;
    try {
      const c = readContainer(path, { into: { values: options.into } });
      const stored = c.meta.parts;
      if (canonicalJson(stored ?? null) !== canonicalJson(parts))
        throw new ContainerError(`${path}: made from other inputs than its key says`);
      const a = c.get('values');
      if (a.dtype !== 'float32' || a.values.length !== length)
        throw new ContainerError(`${path}: expected ${length} float32 values, found ${a.values.length} ${a.dtype}`);
      const bad = firstNonFinite(a.values as Float32Array);
      if (bad >= 0)
        throw new ContainerError(`${path}: value ${bad} is ${a.values[bad]}; expected finite values (damaged entry)`);
      return { values: a.values as Float32Array, meta: c.meta };
    } catch (err) {
      if (!(err instanceof ContainerError)) throw err;
      this.warn(`cache entry ignored and recomputed: ${err.message}`);
      return undefined;
    }
  }

  /** Checks, before long work, that entries of `kind` can be written (the folder is created). @throws naming the folder. */
  checkWritable(kind: string): void {
    if (this.dir === false) return;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(kind))
      throw new Error(`cache kind must be lower-case letters, digits and dashes, found ${JSON.stringify(kind)}`);
    checkWritableDir(join(this.dir, kind));
  }

  /**
   * Stores `values` under `key`, with `meta`; returns the path, or null when nothing was stored:
   * caching off, values that are not all finite (one warning), or the entry could not be written
   * (one warning naming the file; no later write is tried).
   */
  write(key: CacheKey, entry: { values: Float32Array; meta?: Record<string, unknown> }): string | null {
    const { kind, parts } = key;
    const path = this.path(key);
    if (path === null || this.writesOff !== null) return null;
    const bad = firstNonFinite(entry.values);
    if (bad >= 0) {
      this.warn(`cache entry not written: ${path}: value ${bad} is ${entry.values[bad]}; expected finite values`);
      return null;
    }
    try {
      return writeContainer(path, {
        arrays: [{ name: 'values', values: entry.values }],
        meta: { ...entry.meta, parts, kind, createdAt: new Date().toISOString() },
      });
    } catch (err) {
      if (!(err instanceof FileIoError)) throw err;
      this.writesOff = err.message;
      this.warn(`${err.message}; going on without caching (nothing more is written to ${this.dir})`);
      return null;
    }
  }
}

/** The index of the first NaN or infinity in `values`, or -1. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}
