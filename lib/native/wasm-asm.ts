/**
 * A minimal WebAssembly binary encoder for the hand-written SIMD kernels (`lsh-wasm.ts`,
 * `dot-wasm.ts`): LEB128 numbers, sections, the instructions the kernels use, two loop helpers and
 * the assembly of a module that imports its memory as `env.memory` and exports the named functions.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;
export const F64 = 0x7c;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/** Instruction helpers (each returns the bytes of one instruction). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (l: number) => [0x0c, ...uleb(l)],
  brIf: (l: number) => [0x0d, ...uleb(l)],
  call: (f: number) => [0x10, ...uleb(f)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Eq: [0x46],
  i32GeU: [0x4f],
  i32GtU: [0x4b],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Xor: [0x73],
  i32Shl: [0x74],
  i32Mul: [0x6c],
  i32Load: [0x28, 2, 0],
  f32Load: [0x2a, 2, 0],
  f32Store: [0x38, 2, 0],
  f32Add: [0x92],
  f32LoadAt: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f64StoreAt: (offset: number) => [0x39, 3, ...uleb(offset)],
  f64Add: [0xa0],
  f64Le: [0x65],
  i32StoreAt: (offset: number) => [0x36, 2, ...uleb(offset)],
  i32ShrU: [0x76],
  f64LoadAt: (offset: number) => [0x2b, 3, ...uleb(offset)],
  f32StoreAt: (offset: number) => [0x38, 2, ...uleb(offset)],
  f32Sub: [0x93],
  f32DemoteF64: [0xb6],
  f64Mul: [0xa2],
  f64PromoteF32: [0xbb],
  // SIMD (prefix 0xfd, then the opcode as u32 LEB128)
  v128Load: (offset = 0) => [0xfd, ...uleb(0x00), 4, ...uleb(offset)],
  v128Store: (offset = 0) => [0xfd, ...uleb(0x0b), 4, ...uleb(offset)],
  v128Load32Splat: [0xfd, ...uleb(0x09), 2, 0],
  v128Load32Splat4: (offset: number) => [0xfd, ...uleb(0x09), 2, ...uleb(offset)],
  v128Zero: [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  i32x4Splat: [0xfd, ...uleb(0x11)],
  f32x4Lt: [0xfd, ...uleb(0x43)],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  v128And: [0xfd, ...uleb(0x4e)],
  v128Bitselect: [0xfd, ...uleb(0x52)],
  i32x4Add: [0xfd, ...uleb(0xae)],
  f32x4Abs: [0xfd, ...uleb(0xe0)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Pmax: [0xfd, ...uleb(0xeb)],
  f32x4ExtractLane: (lane: number) => [0xfd, ...uleb(0x1f), lane],
  v128Load32Zero: (offset: number) => [0xfd, ...uleb(0x5c), 2, ...uleb(offset)],
  /** Replaces lane `lane` of the v128 on the stack (below the address) with the float32 at address + offset. */
  v128Load32Lane: (offset: number, lane: number) => [0xfd, ...uleb(0x56), 2, ...uleb(offset), lane],
  f64x2PromoteLowF32x4: [0xfd, ...uleb(0x5f)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Sub: [0xfd, ...uleb(0xf1)],
  f64x2Abs: [0xfd, ...uleb(0xec)],
  f64x2Pmax: [0xfd, ...uleb(0xf7)],
  v128Load64Zero: (offset: number) => [0xfd, ...uleb(0x5d), 3, ...uleb(offset)],
  /** Stores lane `lane` (64 bits) of the v128 on the stack at address + offset. */
  v128Store64Lane: (offset: number, lane: number) => [0xfd, ...uleb(0x5b), 3, ...uleb(offset), lane],
  f64x2Splat: [0xfd, ...uleb(0x14)],
  f32x4DemoteF64x2Zero: [0xfd, ...uleb(0x5e)],
  /** i8x16.shuffle of the two v128 on the stack by 16 byte indices (0–15 the first, 16–31 the second). */
  i8x16Shuffle: (lanes: number[]) => [0xfd, ...uleb(0x0d), ...lanes],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2ExtractLane: (lane: number) => [0xfd, ...uleb(0x21), lane],
};

/** `while (!(a >= b)) { body }` on two i32 locals (unsigned compare). */
export function whileLt(a: number, b: number, body: number[][]): number[][] {
  return [op.block, op.loop, op.get(a), op.get(b), op.i32GeU, op.brIf(1), ...body, op.br(0), op.end, op.end];
}

/** local[i] += c */
export function addTo(i: number, c: number): number[][] {
  return [op.get(i), op.i32(c), op.i32Add, op.set(i)];
}

/** local[i] += local[j] */
export function addLocal(i: number, j: number): number[][] {
  return [op.get(i), op.get(j), op.i32Add, op.set(i)];
}

/** A function: `params` i32 parameters, no result, its locals and body (instructions). */
export interface Fn {
  params: number;
  locals: { count: number; type: number }[];
  body: number[][];
}

/**
 * The binary of a module importing `env.memory` (at least 1 page) whose functions are `fns`
 * (function i has type i); the first `names.length` functions are exported under `names`.
 */
export function assembleModule(fns: Fn[], names: string[]): Uint8Array {
  const types = fns.map((f) => [0x60, ...uleb(f.params), ...new Array<number>(f.params).fill(I32), 0]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(names.map((n, i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(fns.map((f) => {
      const code = [...vec(f.locals.map((l) => [...uleb(l.count), l.type])), ...f.body.flat(), 0x0b];
      return [...uleb(code.length), ...code];
    }))),
  ]; // prettier-ignore
  return Uint8Array.from(bytes);
}

/** The parts of the WebAssembly JavaScript API used here (the lib build has no DOM typings). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Largest memory of a 32-bit WebAssembly instance: 65,536 pages of 64 KiB (4 GiB). */
export const WASM_MAX_BYTES = 65536 * 65536;

/** One instance of a kernel with its own memory. */
export interface WasmInstance<E> {
  readonly memory: WasmMemory;
  readonly fn: E;
}

/** A kernel module, assembled and compiled on first use (once per process), instantiated per memory. */
export class WasmKernel<E> {
  private compiled: object | null = null;
  private why: string | null = null;
  private code: Uint8Array | null = null;

  constructor(
    private readonly what: string,
    private readonly assemble: () => Uint8Array,
  ) {}

  /** The module's binary. */
  bytes(): Uint8Array {
    return (this.code ??= this.assemble());
  }

  /** Why the module cannot run here (no WebAssembly, or no SIMD support), or null when it can. */
  unavailable(): string | null {
    if (this.compiled || this.why) return this.why;
    try {
      if (!wasmApi) throw new Error('no WebAssembly');
      this.compiled = new wasmApi.Module(this.bytes());
    } catch (e) {
      this.why = `WebAssembly SIMD ${this.what} kernel failed to compile: ${(e as Error).message}`;
    }
    return this.why;
  }

  /**
   * An instance on an existing memory (another module's heap, e.g. the tfjs wasm backend's), which
   * may grow: take typed-array views of it after the last allocation.
   * @throws Error when the module cannot run here.
   */
  instantiateOn(memory: WasmMemory): E {
    const why = this.unavailable();
    if (why) throw new Error(why);
    return new wasmApi!.Instance(this.compiled!, { env: { memory } }).exports as E;
  }

  /**
   * An instance with a fresh memory of at least `bytes` bytes (the memory never grows afterwards,
   * so typed-array views of it stay valid).
   * @throws Error when the module cannot run here; RangeError beyond {@link WASM_MAX_BYTES}.
   */
  instantiate(bytes: number): WasmInstance<E> {
    const why = this.unavailable();
    if (why) throw new Error(why);
    if (!(bytes <= WASM_MAX_BYTES))
      throw new RangeError(`a WebAssembly memory holds at most ${WASM_MAX_BYTES} bytes (4 GiB), ${bytes} requested`);
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    const memory = new wasmApi!.Memory({ initial: pages, maximum: pages });
    const instance = new wasmApi!.Instance(this.compiled!, { env: { memory } });
    return { memory, fn: instance.exports as E };
  }
}
