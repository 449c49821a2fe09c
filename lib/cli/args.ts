/**
 * The command-line programs' shared parts: strict parsing of values (what was expected and what
 * was found, never a silent default), and {@link runCli}, which prints an error as its message alone
 * (the stack trace with `--verbose` or `DKNN_DEBUG=1`).
 */
import { inspect, parseArgs, type ParseArgsConfig } from 'node:util';
import { DECIMAL_NUMBER } from '../util/checks';

/** Bounds of a count on the command line. */
export interface CountBounds {
  /** The smallest value accepted (default 0). */
  min?: number;
  /** The largest value accepted (default: none). */
  max?: number;
}

/** A decimal integer (no `0x10`, `1e1`, `+3`, `2.5` or empty string) in `bounds` (default: ≥ 0). */
export function parseCount(flag: string, raw: string | undefined, bounds: CountBounds = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
  const value = Number(raw);
  if (raw === undefined || !/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    const range =
      max !== Number.MAX_SAFE_INTEGER ? ` in ${min}…${max}` : min === 0 ? '' : min === 1 ? ' ≥ 1' : ` ≥ ${min}`;
    const what = min === 0 && range === '' ? 'a non-negative decimal integer' : `a decimal integer${range}`;
    throw new Error(`--${flag} must be ${what}, found ${JSON.stringify(raw ?? '')}`);
  }
  return value;
}

/** A finite decimal number (e.g. `0.001`, `1e-3`); not empty, not `Infinity`. */
export function parseNumber(flag: string, raw: string | undefined): number {
  const v = Number(raw);
  if (raw === undefined || raw.trim() === '' || !DECIMAL_NUMBER.test(raw.trim()) || !Number.isFinite(v)) {
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

/** The flag that asks for stack traces; {@link parseCli} accepts it for every program. */
const VERBOSE = '--verbose';
const VERBOSE_USAGE = `  ${VERBOSE.padEnd(29)}stack traces with errors (also DKNN_DEBUG=1)`;

/**
 * The arguments with every `--name -3` (a string option followed by a negative number) written as
 * `--name=-3`: util.parseArgs takes `-3` for an option and calls the argument ambiguous, where the
 * value's own check says what range is expected.
 */
function joinNegativeValues(options: ParseArgsConfig['options'], args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : null;
    const next = args[i + 1];
    if (name !== null && options?.[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/**
 * `util.parseArgs` for a command with a usage text: `--help` / `-h` prints `usage` on stdout and
 * exits 0; an unknown option, a missing value or a stray positional argument is an error that
 * names it and ends with the usage. A negative number is taken as an option's value (its check
 * then names the range), and `--verbose` (see {@link runCli}) is accepted and left out of `values`.
 */
export function parseCli<O extends ParseArgsConfig['options']>(
  options: O,
  usage: string,
  args: string[] = process.argv.slice(2),
): { values: ReturnType<typeof parseArgs<{ options: O }>>['values'] } {
  const text = `${usage.trim()}\n${VERBOSE_USAGE}`;
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${text}\n`);
    process.exit(0);
  }
  const rest = joinNegativeValues(
    options,
    args.filter((a) => a !== VERBOSE),
  );
  try {
    return parseArgs({ options, args: rest, strict: true, allowPositionals: false }) as {
      values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
    };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n\n${text}`, { cause: err });
  }
}

/** Whether errors print their stack trace: `--verbose` among the arguments, or DKNN_DEBUG=1 (or true). */
export function verboseErrors(args: string[] = process.argv.slice(2), env = process.env): boolean {
  return args.includes(VERBOSE) || env.DKNN_DEBUG === '1' || env.DKNN_DEBUG === 'true';
}

/** Kinds of error that come from a bug in the program (or a file it did not check) rather than from its input. */
const UNEXPECTED_ERRORS = new Set(['TypeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'AssertionError']);

/**
 * What a program prints for `err`: with `verbose`, the error with its stack trace and causes;
 * otherwise its message alone. An unexpected error (a TypeError and the like, or one without a
 * message) is named as such and says how to see the trace.
 */
export function cliErrorText(err: unknown, options: { program: string; verbose: boolean }): string {
  const { program, verbose } = options;
  if (verbose) return `${program}: ${err instanceof Error ? inspect(err) : String(err)}`;
  const error = err instanceof Error ? err : null;
  const message = error ? error.message : String(err);
  const unexpected = !error || UNEXPECTED_ERRORS.has(error.name) || message.trim() === '';
  const lines = [`${program}: ${unexpected ? `unexpected error, ${error ? error.name : typeof err}: ` : ''}${message}`];
  if (unexpected) lines.push(`  (run again with ${VERBOSE} or DKNN_DEBUG=1 to see the stack trace)`);
  return lines.join('\n');
}

/** Prints {@link cliErrorText} of `err` on stderr (verbose per {@link verboseErrors}). */
export function reportCliError(err: unknown, program: string): void {
  process.stderr.write(`${cliErrorText(err, { program, verbose: verboseErrors() })}\n`);
}

/**
 * Runs a program's `main`: an error (thrown, rejected or uncaught later) is printed with
 * {@link reportCliError} and the exit code is 1. Ctrl-C (SIGINT) and SIGTERM keep their default
 * action, ending the program at once, except during a file write: lib/artifacts/atomic.ts holds
 * them until the write has finished or removed its temp file, so no temp file outlives the program.
 */
export function runCli(program: string, main: () => Promise<void>): void {
  const fail = (err: unknown) => {
    reportCliError(err, program);
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  main().catch(fail);
}
