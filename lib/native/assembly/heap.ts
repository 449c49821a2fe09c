/**
 * Loops on the tfjs wasm backend's own heap (`heap-simd.ts`), imported as this module's memory:
 * - `add(dst, src, n)`: dst[0 … n) += src[0 … n), float32, four lanes at a time, then one at a time:
 *   the float32 additions of the scalar loop, so the same sums (col2im's scatter-adds);
 * - `biasAct(y, bias, rows, n, relu)`: y[r·n + c] += bias[c] for r < rows, c < n (n a multiple of
 *   4), then when `relu` is 1 f32x4.pmax(y, 0), which is `y < 0 ? 0 : y` of `biasActivation` in
 *   `wasm-util.ts` (−0 and NaN kept).
 * Pointers are byte addresses on the heap.
 */

/** dst[i] += src[i] for i < n (float32). */
export function add(dst: usize, src: usize, n: u32): void {
  const bytes: usize = n << 2;
  const vEnd = bytes & ~15;
  let i: usize = 0;
  for (; i < vEnd; i += 16) {
    const d = dst + i;
    v128.store(d, f32x4.add(v128.load(d), v128.load(src + i)));
  }
  for (; i < bytes; i += 4) {
    const d = dst + i;
    store<f32>(d, load<f32>(d) + load<f32>(src + i));
  }
}

/** y[r·n + c] += bias[c], then ReLU when `relu` is 1 (see the module comment). */
export function biasAct(y: usize, bias: usize, rows: u32, n: u32, relu: u32): void {
  const rowBytes: usize = n << 2;
  const end = y + <usize>rows * rowBytes;
  for (; y < end; y += rowBytes) {
    for (let j: usize = 0; j < rowBytes; j += 16) {
      const p = y + j;
      let v = f32x4.add(v128.load(p), v128.load(bias + j));
      if (relu) v = f32x4.pmax(v, f32x4.splat(0));
      v128.store(p, v);
    }
  }
}
