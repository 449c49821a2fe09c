/**
 * The loader of the WebAssembly SIMD kernels: each kernel is an AssemblyScript module of
 * `assembly/`, compiled at build time (`npm run build:wasm`) to `wasm/<name>.wasm` beside this file
 * (lib/native/wasm when the lib runs from its TypeScript sources, lib/dist/native/wasm when it runs
 * from the build). A module imports its memory as `env.memory` and nothing else, has no data
 * segment and no runtime (test/native/wasm-kernel.test.ts checks every binary), so an instance can
 * run on any memory: its own, a row store's or another module's heap.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** The folder of the compiled kernels. */
export const WASM_DIR = join(__dirname, 'wasm');

/** One instance of a kernel with its own memory. */
export interface WasmInstance<E> {
  readonly memory: WasmMemory;
  readonly fn: E;
}

/** A kernel module, read and compiled on first use (once per process), instantiated per memory. */
export class WasmKernel<E> {
  private compiled: object | null = null;
  private why: string | null = null;

  /**
   * @param what the kernel's name in messages
   * @param file its binary in {@link WASM_DIR}
   */
  constructor(
    private readonly what: string,
    private readonly file: string,
  ) {}

  /** Why the module cannot run here (no compiled kernel, no WebAssembly, or no SIMD support), or null when it can. */
  unavailable(): string | null {
    if (this.compiled || this.why) return this.why;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(WASM_DIR, this.file));
    } catch (e) {
      this.why = `WebAssembly SIMD ${this.what} kernel not found (run \`npm run build:wasm\`): ${(e as Error).message}`;
      return this.why;
    }
    try {
      if (!wasmApi) throw new Error('no WebAssembly');
      this.compiled = new wasmApi.Module(bytes);
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
