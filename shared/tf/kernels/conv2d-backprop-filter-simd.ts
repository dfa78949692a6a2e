// Conv2DBackpropFilter on wasm through the project's own SIMD kernel (wasm-simd/filter-grad.c), which runs on
// tfjs-backend-wasm's heap, on every wasm thread: up to 2.9x the one-conv rewrite (conv2d-backprop-filter.ts),
// which stays for the shapes the kernel does not take or does not win on (see MIN_POSITIONS).
import { WASM_BASE64, WASM_SHARED_BASE64 } from './wasm-simd/filter-grad.wasm.js';
import { SimdKernel, type KernelArgs, type WasmMemory } from './wasm-simd/runner.js';
import { filterGradientInfo, reachedInput } from './conv2d-backprop-filter.js';
import { type KernelArgs as TfKernelArgs, type TensorInfo, withScope } from './kernel-scope.js';

/** The parts of tfjs-backend-wasm's BackendWasm this kernel reads: its heap and where each tensor lives in it. */
interface WasmHeapBackend {
  // The emscripten module: the threaded build names its (shared) memory wasmMemory, the other exports it.
  wasm: { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** A block of positions takes about this many bytes of x and dy, so it stays in cache while every tap and tile passes over it. */
const BLOCK_BYTES = 64 * 1024;
/**
 * The kernel wins where the one-conv rewrite's GEMM has a long reduction (n·oh·ow positions), which XNNPACK handles
 * worst; with a short one and a big filter XNNPACK's GEMM is the faster. Measured (ms, rewrite → kernel, 2 threads):
 * ResNet 3×3 [16,64,64,32] 80–97 → 33–38, [16,16,16,128] 51–60 → 44–46, [16,8,8,256] (1024 positions) 52–73 →
 * 46–60, about even; DCGAN 4×4/2 dy [32,32,32,128] 458–503 → 266–316, [32,16,16,256] 335–390 → 362–382, dy [32,8,8,512]
 * 270–303 → 317–445 (2048 positions).
 */
const MIN_POSITIONS = 4096;

let made: { memory: WasmMemory; kernel: SimdKernel } | undefined;

/** The kernel on this backend's heap, made once; undefined when the backend does not expose its heap. */
function simdKernel(backend: WasmHeapBackend, threads: number): SimdKernel | undefined {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (memory === undefined) return undefined;
  if (made?.memory !== memory) {
    made = { memory, kernel: new SimdKernel(memory, { shared: WASM_SHARED_BASE64, plain: WASM_BASE64 }, 'filter_grad', threads) };
  }
  return made.kernel;
}

function offsetOf(backend: WasmHeapBackend, t: TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (entry === undefined) throw new Error('Conv2DBackpropFilter: a tensor is not on the wasm heap');
  return entry.memoryOffset;
}

/** The filter gradient on the SIMD kernel, or undefined when this shape or backend is not one it takes. */
export function conv2dBackpropFilterSimd(args: TfKernelArgs, backendName: string, threads: number): TensorInfo | undefined {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const info = filterGradientInfo(x, args.attrs ?? {});
  const { inChannels: ci, outChannels: co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (ci % 4 !== 0 || co % 8 !== 0 || x.dtype !== 'float32' || dy.dtype !== 'float32') return undefined;
  if (x.shape[0]! * info.outHeight * info.outWidth < MIN_POSITIONS) return undefined;
  const backend = args.backend as WasmHeapBackend;
  const run = simdKernel(backend, threads);
  if (run === undefined) return undefined;
  return withScope(args.backend, backendName, (s) => {
    const xin = reachedInput(s, x, info);
    const out = s.alloc([kh, kw, ci, co]);
    const dw = offsetOf(backend, out);
    new Float32Array(run.memory.buffer, dw, kh * kw * ci * co).fill(0);
    const [n, hp, wp] = xin.shape as [number, number, number, number];
    const { outHeight: oh, outWidth: ow } = info;
    const block = Math.max(1, Math.floor(BLOCK_BYTES / ((ci * sh * sw + co) * 4)));
    const call = (oBegin: number, oEnd: number): KernelArgs =>
      [offsetOf(backend, xin), offsetOf(backend, dy), dw, n, oh, ow, ci, co, kh, kw, hp, wp, sh, sw, oBegin, oEnd, block];
    // The threads take disjoint ranges of output channels, whole tiles of 8 each.
    const tiles = co / 8;
    const parts = Math.min(run.threads, tiles);
    const shares = Array.from({ length: parts }, (_, i) => call(8 * Math.floor((tiles * i) / parts), 8 * Math.floor((tiles * (i + 1)) / parts)));
    run.run(shares);
    return out;
  });
}
