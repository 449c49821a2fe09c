/** Strict parsing of command-line values: what was expected and what was found, never a silent default. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A non-negative decimal integer (no `0x10`, `1e1`, `+3` or empty string). */
export function parseCount(flag: string, raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new Error(`--${flag} must be a non-negative decimal integer, found ${JSON.stringify(raw ?? '')}`);
  }
  return Number(raw);
}

/** A finite decimal number (e.g. `0.001`, `1e-3`); not empty, not `Infinity`. */
export function parseNumber(flag: string, raw: string | undefined): number {
  const v = Number(raw);
  if (
    raw === undefined ||
    raw.trim() === '' ||
    !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.trim()) ||
    !Number.isFinite(v)
  ) {
    throw new Error(`--${flag} must be a finite number, found ${JSON.stringify(raw ?? '')}`);
  }
  return v;
}

/** The worker threads to use: `requested`, capped by the machine's cores (with the message to print), at least 1. */
export function capWorkers(requested: number, cores: number): { workers: number; message: string | null } {
  if (!Number.isSafeInteger(requested) || requested < 1)
    throw new Error(`--workers must be a positive integer, found ${requested}`);
  if (requested <= cores) return { workers: requested, message: null };
  return {
    workers: Math.max(1, cores),
    message: `--workers ${requested} exceeds the ${cores} cores of this machine: using ${Math.max(1, cores)}`,
  };
}

/**
 * `util.parseArgs` for a command with a usage text: `--help` / `-h` prints `usage` on stdout and
 * exits 0; an unknown option, a missing value or a stray positional argument is an error that
 * names it and ends with the usage.
 */
export function parseCli<O extends ParseArgsConfig['options']>(
  options: O,
  usage: string,
  args: string[] = process.argv.slice(2),
): { values: ReturnType<typeof parseArgs<{ options: O }>>['values'] } {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ options, args, strict: true, allowPositionals: false }) as {
      values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\n${usage.trim()}`, { cause: err });
  }
}
