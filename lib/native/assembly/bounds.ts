/**
 * The projection's lower bounds (`bounds-wasm.ts`: `fillBounds` of `projection.ts`) and the plain
 * GEMM path's approximate distances (`offerBlock` of `exact.ts`), two rows per f64x2 with the
 * JavaScript expression's operations in the same order, so every value is the same float64 and
 * every stored bound the same float32:
 *   d1 = lo − ρhi_x, d2 = ρlo_x − hi, gap = pmax(pmax(d1, d2), 0) (only gap² is used, so the sign of
 *   a zero does not matter), v = ((qTerm + rowTerm_x) − s2·g) + gap², lb = float32(v − |v|·c).
 * Each row whose v is ≤ the query's admission bound `worst` is listed (row index, then v, in row
 * order) in the candidate list, for the query's heap.
 *
 * Arguments (byte addresses in the imported memory): g, `pairs` pairs of float32 GEMM values; lb,
 * the float32 bounds; rowTerm, resLo, resHi, float64 per row; consts, float64 qTerm, lo, hi, s2,
 * worst, c, then the int32 count of candidates written back at byte 48; cand, SUB int32 row indices
 * then SUB float64 values; x0, the index of the first row.
 */

/** Candidates per call: the length of the candidate list. */
const SUB: usize = 1024;

/** Lists row `x` with value t when t ≤ worst; returns the new count. */
function offer(t: f64, worst: f64, x: u32, cand: usize, cnt: u32): u32 {
  if (t <= worst) {
    store<u32>(cand + (cnt << 2), x);
    store<f64>(cand + (cnt << 3), t, 4 * SUB);
    cnt++;
  }
  return cnt;
}

/** Stores the bounds of `pairs` pairs of rows and lists the candidates (see the module comment). */
export function bounds(
  g: usize,
  pairs: u32,
  lb: usize,
  rowTerm: usize,
  resLo: usize,
  resHi: usize,
  consts: usize,
  cand: usize,
  x0: u32,
): void {
  const qT = f64x2.splat(load<f64>(consts));
  const lo = f64x2.splat(load<f64>(consts, 8));
  const hi = f64x2.splat(load<f64>(consts, 16));
  const s2 = f64x2.splat(load<f64>(consts, 24));
  const c = f64x2.splat(load<f64>(consts, 40));
  const worst = load<f64>(consts, 32);
  const end: usize = pairs << 3;
  let cnt: u32 = 0;
  for (let p: usize = 0, q: usize = 0; p < end; p += 8, q += 16) {
    const d1 = f64x2.sub(lo, v128.load(resHi + q));
    const d2 = f64x2.sub(v128.load(resLo + q), hi);
    const d = f64x2.pmax(f64x2.pmax(d1, d2), f64x2.splat(0));
    const gs = f64x2.mul(s2, f64x2.promote_low_f32x4(v128.load64_zero(g + p)));
    const v = f64x2.add(f64x2.sub(f64x2.add(qT, v128.load(rowTerm + q)), gs), f64x2.mul(d, d));
    v128.store64_lane(lb + p, f32x4.demote_f64x2_zero(f64x2.sub(v, f64x2.mul(f64x2.abs(v), c))), 0);
    const x = x0 + <u32>(p >> 2);
    cnt = offer(f64x2.extract_lane(v, 0), worst, x, cand, cnt);
    cnt = offer(f64x2.extract_lane(v, 1), worst, x + 1, cand, cnt);
  }
  store<u32>(consts, cnt, 48);
}

/**
 * The approximate distances v = (qTerm + rowTerm_x) − s2·g of `pairs` pairs of rows, candidates
 * listed as in {@link bounds}; no bound stored (`lb`, `resLo`, `resHi` unused).
 */
export function offers(
  g: usize,
  pairs: u32,
  lb: usize,
  rowTerm: usize,
  resLo: usize,
  resHi: usize,
  consts: usize,
  cand: usize,
  x0: u32,
): void {
  const qT = f64x2.splat(load<f64>(consts));
  const s2 = f64x2.splat(load<f64>(consts, 24));
  const worst = load<f64>(consts, 32);
  const end: usize = pairs << 3;
  let cnt: u32 = 0;
  for (let p: usize = 0, q: usize = 0; p < end; p += 8, q += 16) {
    const gs = f64x2.mul(s2, f64x2.promote_low_f32x4(v128.load64_zero(g + p)));
    const v = f64x2.sub(f64x2.add(qT, v128.load(rowTerm + q)), gs);
    const x = x0 + <u32>(p >> 2);
    cnt = offer(f64x2.extract_lane(v, 0), worst, x, cand, cnt);
    cnt = offer(f64x2.extract_lane(v, 1), worst, x + 1, cand, cnt);
  }
  store<u32>(consts, cnt, 48);
}
