/**
 * The folder a trained model goes to: never a committed pretrained model's by accident (however
 * the path is spelled), and never left empty or half-written. A new folder is written as a hidden
 * sibling and renamed into place; on failure everything the save created is removed.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { saveModel } from '../models/format';
import type { DkNNModelMetadata } from '../models/metadata';

/** `path` with every symbolic link resolved, also when its last parts do not exist yet. */
export function resolvedPath(path: string): string {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(at), ...missing.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return resolve(path);
      missing.push(basename(at));
      at = up;
    }
  }
}

/** Whether `path` is `root` or inside it, both resolved. */
function within(path: string, root: string): boolean {
  const rel = relative(resolvedPath(root), resolvedPath(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Checks, before training, that the model may be written to `out`: not at or inside any of
 * `protectedRoots` (the folders of the committed models) unless `force`, not an existing file, and
 * creatable (a probe file in the nearest existing folder; nothing is left behind).
 * @throws Error naming the folder, why, and how to write elsewhere.
 */
export function checkModelOut(
  out: string,
  options: { protectedRoots: readonly string[]; force: boolean; label?: string },
): void {
  const label = options.label ?? `--out ${out}`;
  const hit = options.protectedRoots.find((root) => within(out, root));
  if (hit !== undefined && !options.force) {
    const root = resolvedPath(hit);
    const first = relative(root, resolvedPath(out)).split(sep)[0];
    const what =
      first && existsSync(join(root, first))
        ? `would overwrite the committed pretrained model at ${join(root, first)}; pass --force to replace it`
        : `would write into ${root}, the folder of the committed pretrained models; pass --force to write there`;
    throw new Error(`${label} ${what}, or --out with another folder (e.g. --out runs/${basename(resolve(out))})`);
  }
  let at = resolve(out);
  while (!existsSync(at)) at = dirname(at);
  const atStat = statSync(at);
  if (at === resolve(out) && !atStat.isDirectory())
    throw new Error(`${label} is a file; expected a folder (new, or a saved model's)`);
  if (!atStat.isDirectory()) throw new Error(`${label}: cannot create it, ${at} is a file`);
  const probe = join(at, `.write-probe.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, 'w'));
  } catch (err) {
    throw new Error(
      `${label}: cannot write into ${at} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  rmSync(probe, { force: true });
}

/** The hidden sibling a new model folder is written in before it is renamed into place. */
function partialName(out: string, pid: number): string {
  return join(dirname(out), `.${basename(out)}.partial-${pid}`);
}

/** Removes the partial folders of `out` left by processes that no longer run. */
function removeStalePartials(out: string): void {
  const prefix = `.${basename(out)}.partial-`;
  let names: string[];
  try {
    names = readdirSync(dirname(out));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !Number.isSafeInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(dirname(out), name), { recursive: true, force: true });
    }
  }
}

/** Creates the missing folders above `dir` one at a time; returns those it created, outermost first. */
function createParents(dir: string): string[] {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) missing.unshift(at);
  for (const d of missing) mkdirSync(d);
  return missing;
}

/**
 * Saves `model` to folder `out` (see {@link saveModel}). An existing folder gets its files replaced
 * one by one, each atomically; a new one is written as a hidden sibling, then renamed to `out`. On
 * failure the sibling and the folders created for it are removed.
 * @throws Error naming `out` and the cause.
 */
export async function saveModelFolder(out: string, model: tf.LayersModel, meta: DkNNModelMetadata): Promise<void> {
  const target = resolve(out);
  const fail = (err: unknown) =>
    new Error(`cannot save the model to ${target}: ${(err as Error).message}`, { cause: err });
  if (existsSync(target)) {
    try {
      await saveModel(target, model, meta);
    } catch (err) {
      throw fail(err);
    }
    return;
  }
  const created: string[] = [];
  const partial = partialName(target, process.pid);
  try {
    created.push(...createParents(dirname(target)));
    removeStalePartials(target);
    await saveModel(partial, model, meta);
    renameSync(partial, target);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    for (const d of created.reverse()) {
      try {
        rmdirSync(d); // empty, or left alone
      } catch {
        break;
      }
    }
    throw fail(err);
  }
}
