/**
 * The artefact cache: arrays computed from known inputs (activations, adversarial sets, benchmark
 * data) stored under `<dir>/<kind>/<key>.bin`, where the key is the sha256 of the inputs
 * ({@link cacheKey}). Each entry is a verified {@link writeContainer} file that also records the
 * inputs themselves, so a read returns values only when the file is intact and was made from the
 * same inputs. A damaged entry is a miss with one warning naming the file (and is then rewritten
 * by the caller), never a hit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkWritableDir } from './atomic';
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
  /** Receives one line per damaged entry found. Default `process.emitWarning`. */
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

  /** Stores `values` under `key`, with `meta`; returns the path (null when caching is off). */
  write(key: CacheKey, entry: { values: Float32Array; meta?: Record<string, unknown> }): string | null {
    const { kind, parts } = key;
    const path = this.path(key);
    if (path === null) return null;
    return writeContainer(path, {
      arrays: [{ name: 'values', values: entry.values }],
      meta: { ...entry.meta, parts, kind, createdAt: new Date().toISOString() },
    });
  }
}
