/**
 * Small deterministic pseudo-random number generator (xoshiro128**, seeded through splitmix32).
 * Identical seeds give identical streams on every platform; not for cryptographic use.
 */

/** A seeded random stream. */
export interface Rng {
  /** The seed the stream was created from. */
  readonly seed: number;
  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  uint32(): number;
  /** Uniform integer in [0, n); `n` must be a positive safe integer. Unbiased for n <= 2^32. */
  int(n: number): number;
  /** Standard normal deviate (mean 0, variance 1), Box-Muller. */
  normal(): number;
}

function splitmix32(state: number): () => number {
  let a = state | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    return t >>> 0;
  };
}

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

/**
 * Creates a deterministic random stream from an integer seed (any safe integer, negative allowed).
 * @throws RangeError if `seed` is not a safe integer.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`createRng: seed must be a safe integer, got ${seed}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_32) >>> 0;
  const sm = splitmix32(lo);
  let s0 = sm() | 0;
  let s1 = sm() | 0;
  const sm2 = splitmix32(lo ^ Math.imul(hi ^ 0x5bd1e995, 0x85ebca6b));
  let s2 = sm2() | 0;
  let s3 = sm2() | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const uint32 = (): number => {
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };
  const next = (): number => ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / TWO_53;
  let spare: number | null = null;

  return {
    seed,
    next,
    uint32,
    int(n: number): number {
      if (!Number.isSafeInteger(n) || n <= 0) {
        throw new RangeError(`Rng.int: n must be a positive safe integer, got ${n}`);
      }
      if (n > TWO_32) return Math.floor(next() * n);
      // Rejection sampling: accept only values below the largest multiple of n.
      const limit = TWO_32 - (TWO_32 % n);
      for (;;) {
        const u = uint32();
        if (u < limit) return u % n;
      }
    },
    normal(): number {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
