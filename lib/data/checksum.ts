/** SHA-256 helpers: hashing files and bytes, parsing `sha256sum` output, verifying files. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** Thrown when content does not have the expected SHA-256 (or no expected hash is known). */
export class ChecksumError extends Error {
  override readonly name = 'ChecksumError';
  /** File (or label) the check was about. */
  readonly file: string;
  /** Expected lower-case hex digest, or null when none was listed. */
  readonly expected: string | null;
  /** Digest actually found, or null when not computed. */
  readonly actual: string | null;
  constructor(file: string, expected: string | null, actual: string | null, message?: string) {
    super(message ?? `${file}: SHA-256 mismatch: expected ${expected ?? '(none)'}, found ${actual ?? '(none)'}`);
    this.file = file;
    this.expected = expected;
    this.actual = actual;
  }
}

/** Thrown by {@link parseSha256Sums} for lines that are not `<64 hex>  <path>`. */
export class Sha256SumsFormatError extends Error {
  override readonly name = 'Sha256SumsFormatError';
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Lower-case hex SHA-256 of in-memory bytes. */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Lower-case hex SHA-256 of a file, streamed (constant memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Parses `sha256sum` output (`<hex>  <path>` or `<hex> *<path>` per line; blank lines and lines
 * starting with '#' are ignored) into a map path -> lower-case hex digest.
 * @throws Sha256SumsFormatError on a malformed line or a path listed twice with different hashes.
 */
export function parseSha256Sums(text: string, options?: { source?: string }): Map<string, string> {
  const source = options?.source ?? 'SHA256SUMS';
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const m = /^([0-9a-fA-F]+) [ *](.+)$/.exec(line);
    if (!m || !HEX64.test(m[1]!)) {
      throw new Sha256SumsFormatError(
        `${source}:${i + 1}: expected "<64 hex digits>  <path>", found ${JSON.stringify(line.slice(0, 120))}`,
      );
    }
    const path = m[2]!;
    const hash = m[1]!.toLowerCase();
    const prev = out.get(path);
    if (prev !== undefined && prev !== hash) {
      throw new Sha256SumsFormatError(`${source}:${i + 1}: ${path} listed twice with different hashes`);
    }
    out.set(path, hash);
  });
  return out;
}

/** Reads and parses a SHA256SUMS file. */
export async function readSha256Sums(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: cannot read the checksum list (${code ?? (err as Error).message}); every data folder needs its SHA256SUMS (the repository has data/SHA256SUMS), or pass verify: false`, { cause: err });
  }
  return parseSha256Sums(text, { source: path });
}

function checkExpected(label: string, expected: string): string {
  if (!HEX64.test(expected)) {
    throw new RangeError(`${label}: expected SHA-256 must be 64 hex digits, got ${JSON.stringify(expected)}`);
  }
  return expected.toLowerCase();
}

/**
 * Checks in-memory bytes against an expected digest; returns the digest.
 * @throws ChecksumError naming `label`, the expected and the found hash.
 */
export function verifyBytes(bytes: Uint8Array, expectedSha: string, label: string): string {
  const expected = checkExpected(label, expectedSha);
  const actual = sha256Bytes(bytes);
  if (actual !== expected) throw new ChecksumError(label, expected, actual);
  return actual;
}

/**
 * Hashes a file and compares with `expectedSha` (case-insensitive); returns the digest.
 * @throws ChecksumError naming the file, the expected and the found hash.
 */
export async function verifyFile(path: string, expectedSha: string): Promise<string> {
  const expected = checkExpected(path, expectedSha);
  const actual = await sha256File(path);
  if (actual !== expected) throw new ChecksumError(path, expected, actual);
  return actual;
}
