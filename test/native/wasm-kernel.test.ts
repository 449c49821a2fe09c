/**
 * The compiled AssemblyScript kernels (lib/native/wasm/*.wasm, one per lib/native/assembly/*.ts)
 * and their loader (lib/native/wasm-kernel.ts). Every binary must run on a memory that JavaScript
 * made: it imports its memory as env.memory and nothing else (no abort, no runtime), and it has no
 * data segment, no global and no start function that could write to low addresses, where a row
 * store keeps user rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WASM_DIR, WASM_MAX_BYTES, WasmKernel } from '../../lib/native/wasm-kernel';

const SOURCES = join(__dirname, '../../lib/native/assembly');

/** The functions each kernel exports (what its lib/native module calls). */
const EXPORTS: Record<string, string[]> = {
  bounds: ['bounds', 'offers'],
  canonical: ['dots', 'squares'],
  dot: ['dots'],
  heap: ['add', 'biasAct'],
  lsh: ['decode', 'fht', 'signFht', 'signFold'],
  preprocess: ['colSums', 'scaleRows', 'subtract'],
};

/** A cursor over a wasm binary: unsigned LEB128 numbers, bytes and names. */
class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}
  u32(): number {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.bytes[this.at++];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
  }
  byte(): number {
    return this.bytes[this.at++];
  }
  name(): string {
    const length = this.u32();
    this.at += length;
    return Buffer.from(this.bytes.subarray(this.at - length, this.at)).toString('utf8');
  }
}

interface Parsed {
  sections: number[];
  imports: { module: string; name: string; kind: number; flags: number; min: number }[];
  exports: { name: string; kind: number }[];
}

/** The section ids in order, the imports and the exports of a wasm binary. */
function parse(bytes: Uint8Array): Parsed {
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 'wasm magic and version 1');
  const out: Parsed = { sections: [], imports: [], exports: [] };
  const r = new Reader(bytes, 8);
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.at + size;
    out.sections.push(id);
    if (id === 2)
      for (let i = r.u32(); i > 0; i--) {
        const [module, name, kind] = [r.name(), r.name(), r.byte()];
        assert.equal(kind, 2, `import ${module}.${name} is a memory`);
        const flags = r.byte();
        out.imports.push({ module, name, kind, flags, min: r.u32() });
        if (flags & 1) r.u32();
      }
    if (id === 7)
      for (let i = r.u32(); i > 0; i--) {
        const [name, kind] = [r.name(), r.byte()];
        r.u32(); // the function's index
        out.exports.push({ name, kind });
      }
    r.at = end;
  }
  return out;
}

const kernels = readdirSync(SOURCES)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

test('every AssemblyScript kernel is compiled, and the export table here names each one', () => {
  assert.deepEqual(kernels, Object.keys(EXPORTS).sort());
  for (const k of kernels) assert.ok(existsSync(join(WASM_DIR, `${k}.wasm`)), `${k}.wasm (run npm run build:wasm)`);
});

test('each kernel imports only env.memory, exports only its functions, and has no data, global, table or start', () => {
  for (const k of kernels) {
    const p = parse(readFileSync(join(WASM_DIR, `${k}.wasm`)));
    // type 1, import 2, function 3, export 7, code 10: nothing else, not even a custom section.
    assert.deepEqual(p.sections, [1, 2, 3, 7, 10], `${k}: sections ${p.sections.join(' ')}`);
    assert.deepEqual(
      p.imports.map(({ module, name, flags }) => ({ module, name, flags })),
      [{ module: 'env', name: 'memory', flags: 0 }],
      `${k}: one import, an unshared memory without a maximum`,
    );
    assert.ok(p.imports[0].min <= 1, `${k}: the memory needs at most one page, found ${p.imports[0].min}`);
    assert.deepEqual(p.exports.map((e) => e.name).sort(), EXPORTS[k], `${k}: exports`);
    assert.ok(
      p.exports.every((e) => e.kind === 0),
      `${k}: functions only (no memory, global or table export)`,
    );
  }
});

test('the loader: a missing kernel is unavailable with the reason, sizes beyond 4 GiB are refused', () => {
  const missing = new WasmKernel<object>('test', 'no-such-kernel.wasm');
  assert.match(missing.unavailable() ?? '', /test kernel not found \(run `npm run build:wasm`\)/);
  assert.throws(() => missing.instantiate(65536), /not found/);
  const heap = new WasmKernel<{ add(dst: number, src: number, n: number): void }>('heap add', 'heap.wasm');
  if (heap.unavailable() !== null) return; // no WebAssembly SIMD here: the lib falls back to JavaScript
  assert.throws(() => heap.instantiate(WASM_MAX_BYTES + 1), RangeError);
  const { memory, fn } = heap.instantiate(100);
  assert.equal(memory.buffer.byteLength, 65536, 'one page');
  const f = new Float32Array(memory.buffer);
  f.set([1, 2, 3, 4, 5, 10, 20, 30, 40, 50]);
  fn.add(0, 20, 5);
  assert.deepEqual(Array.from(f.subarray(0, 5)), [11, 22, 33, 44, 55]);
});
