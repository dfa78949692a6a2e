// The project's WebAssembly SIMD kernels (shared/tf/kernels/wasm-simd): the committed build matches its C source,
// and the runner that calls them on several threads returns only when every share is done and reports a share
// that traps. Their values are checked against the cpu backend by the parity suites (tf-kernels-parity*.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WASM_BASE64, WASM_SHARED_BASE64 } from '../../shared/tf/kernels/wasm-simd/filter-grad.wasm.js';
import { SimdKernel, type WasmMemory } from '../../shared/tf/kernels/wasm-simd/runner.js';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'shared', 'tf', 'kernels', 'wasm-simd');
const missing = ['clang-14', 'wasm-ld-14'].filter((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});

describe('wasm SIMD kernels', () => {
  const out = mkdtempSync(join(tmpdir(), 'cxr-wasm-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.skipIf(missing.length > 0)(`the committed modules are the build of their C sources${missing.length ? ` (needs ${missing.join(', ')})` : ''}`, () => {
    execFileSync('bash', [join(root, 'scripts', 'wasm-kernels.sh'), '--out', out], { cwd: root, stdio: 'pipe' });
    const sources = readdirSync(dir).filter((f) => f.endsWith('.c'));
    expect(sources.length).toBeGreaterThan(0);
    for (const c of sources) {
      const name = c.replace(/\.c$/, '.wasm.ts');
      expect(readFileSync(join(out, name), 'utf8') === readFileSync(join(dir, name), 'utf8'), `${name} is stale: run scripts/wasm-kernels.sh`).toBe(true);
    }
  });

  // A shared memory with room to grow, as tfjs's threaded build has: x, dy and dw of a small 1×1 convolution in it.
  const Memory = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => WasmMemory } }).WebAssembly.Memory;
  const memory = new Memory({ initial: 4, maximum: 65536, shared: true });
  const builds = { shared: WASM_SHARED_BASE64, plain: WASM_BASE64 };
  const heap = new Float32Array(memory.buffer);
  const [X, DY, DW] = [0, 4096, 8192]; // byte offsets
  const positions = 16;
  const ci = 4;
  const co = 16;
  for (let i = 0; i < positions * ci; i++) heap[X / 4 + i] = (i % 7) - 3;
  for (let i = 0; i < positions * co; i++) heap[DY / 4 + i] = (i % 5) - 2;
  const args = (oBegin: number, oEnd: number, dw = DW) => [X, DY, dw, 1, 1, positions, ci, co, 1, 1, 1, positions, 1, 1, oBegin, oEnd, 512];
  const expected = (c: number, o: number) => {
    let sum = 0;
    for (let p = 0; p < positions; p++) sum += heap[X / 4 + p * ci + c]! * heap[DY / 4 + p * co + o]!;
    return sum;
  };

  it('runs the shares of one call on this thread and a helper, and returns when both are done', () => {
    const kernel = new SimdKernel(memory, builds, 'filter_grad', 2);
    expect(kernel.threads).toBe(2);
    for (let round = 0; round < 3; round++) {
      heap.fill(0, DW / 4, DW / 4 + ci * co);
      kernel.run([args(0, 8), args(8, 16)]); // output channels 0-7 here, 8-15 on the helper
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) expect(heap[DW / 4 + c * co + o]).toBe(expected(c, o));
    }
  });

  it('fails the call when a share traps, here or on a helper, and keeps working afterwards', () => {
    const kernel = new SimdKernel(memory, builds, 'filter_grad', 2);
    const outside = 0x7ffffff0; // far past the end of the memory: the access traps
    expect(() => kernel.run([args(0, 8), args(8, 16, outside)])).toThrow(/failed on a helper thread/);
    expect(() => kernel.run([args(0, 8, outside), args(8, 16)])).toThrow(/out of bounds/);
    heap.fill(0, DW / 4, DW / 4 + ci * co);
    kernel.run([args(0, 8), args(8, 16)]);
    expect(heap[DW / 4 + co + 9]).toBe(expected(1, 9));
  });

  it('runs on a plain memory (tfjs\'s single-threaded build) with no helpers', () => {
    const plain = new Memory({ initial: 4 });
    const kernel = new SimdKernel(plain, builds, 'filter_grad', 2);
    expect(kernel.threads).toBe(1);
    const h = new Float32Array(plain.buffer);
    h.set(heap.subarray(0, DW / 4));
    kernel.run([args(0, 16)]);
    expect(h[DW / 4 + 3 * co + 15]).toBe(expected(3, 15));
  });

  it('takes the ResNet\'s filter gradients on the wasm backend, agreeing with the one-conv rewrite, and declines what it does not take', async () => {
    const { tf, initTf } = await import('../../shared/tf/index.js');
    const { conv2dBackpropFilterSimd } = await import('../../shared/tf/kernels/conv2d-backprop-filter-simd.js');
    const { conv2dBackpropFilterViaConv } = await import('../../shared/tf/kernels/conv2d-backprop-filter.js');
    const info = await initTf({ backend: 'wasm', threads: 2 });
    expect(info.variant).toBe('wasm-simd-threads');
    const backend = tf.backend();
    const args = (xShape: number[], dyShape: number[], filterShape: number[], strides: number) => ({
      inputs: { x: tf.randomNormal(xShape, 0, 1, 'float32', 1), dy: tf.randomNormal(dyShape, 0, 1, 'float32', 2) },
      backend,
      attrs: { strides: [strides, strides], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape },
    });
    const read = (t: import('@tensorflow/tfjs').TensorInfo) => tf.engine().makeTensorFromTensorInfo(t).dataSync() as Float32Array;
    for (const a of [args([4, 32, 32, 16], [4, 32, 32, 24], [3, 3, 16, 24], 1), args([4, 64, 64, 8], [4, 32, 32, 16], [3, 3, 8, 16], 2)]) {
      const simd = conv2dBackpropFilterSimd(a, 'wasm', 2);
      expect(simd).toBeDefined();
      const got = read(simd!);
      const want = read(conv2dBackpropFilterViaConv(a, 'wasm'));
      const scale = Math.max(1, ...want.map(Math.abs));
      expect(Math.max(...got.map((g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(1e-5);
    }
    // Fewer than 4096 positions, channels not a multiple of 4 in or 8 out: the rewrite's.
    expect(conv2dBackpropFilterSimd(args([2, 16, 16, 16], [2, 16, 16, 24], [3, 3, 16, 24], 1), 'wasm', 2)).toBeUndefined();
    expect(conv2dBackpropFilterSimd(args([4, 32, 32, 3], [4, 32, 32, 24], [3, 3, 3, 24], 1), 'wasm', 2)).toBeUndefined();
    expect(conv2dBackpropFilterSimd(args([4, 32, 32, 16], [4, 32, 32, 20], [3, 3, 16, 20], 1), 'wasm', 2)).toBeUndefined();
  });

  it('refuses more shares than threads', () => {
    const kernel = new SimdKernel(memory, builds, 'filter_grad', 1);
    expect(() => kernel.run([args(0, 8), args(8, 16)])).toThrow(/2 shares for 1 threads/);
  });
});
