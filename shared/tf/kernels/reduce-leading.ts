// Sum and Mean over LEADING axes (bias gradients, batch-norm statistics: axes [0,1,2] of NHWC): out[j] = Σ_i x[i, j].
// The wasm backend's own reduction first transposes the reduced axes to the end (a full copy with a strided access
// pattern) and then reduces: ~7× slower. Here, for many rows, one XNNPACK matmul xᵀ·1 with x as the LEFT operand
// and a cached ones column as the right (XNNPACK caches its operator, packed weights included, by the right
// operand's id: a constant ones column is safe to cache, x would not be): 4 ms for [65536, 32] against 11 ms for
// a JS pass. Few rows: one sequential JS pass over the heap with float64 accumulators.
// Any other axis set goes to the backend's own kernel.
import * as tf from '@tensorflow/tfjs';
import { type HeapBackend, type KernelArgs, type KernelFn, type TensorInfo, withScope } from './kernel-scope.js';

/** Below this many rows the JS pass is as fast as the matmul and needs no cached column. */
const MATMUL_MIN_ROWS = 1024;
/** Distinct row counts whose ones column is kept (the models here use a handful). */
const ONES_CACHE_SIZE = 32;
const onesCache = new WeakMap<object, Map<number, TensorInfo>>();

/** A [1, rows, 1] column of ones on the backend, made once per row count and kept (oldest dropped past the cap). */
function onesColumn(backend: HeapBackend, rows: number): TensorInfo {
  let cache = onesCache.get(backend);
  if (cache === undefined) onesCache.set(backend, (cache = new Map()));
  const hit = cache.get(rows);
  if (hit !== undefined) return hit;
  const ones = backend.makeOutput([1, rows, 1], 'float32');
  (backend.typedArrayFromHeap(ones) as Float32Array).fill(1);
  cache.set(rows, ones);
  if (cache.size > ONES_CACHE_SIZE) {
    const [oldest, t] = cache.entries().next().value as [number, TensorInfo];
    backend.disposeData(t.dataId);
    cache.delete(oldest);
  }
  return ones;
}

/** The number of leading axes reduced when `axis` is exactly [0..k-1] with 0 < k < rank, else 0. */
export function leadingAxes(axis: unknown, shape: number[]): number {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function reduceLeading(args: KernelArgs, backendName: string, original: KernelFn, mean: boolean): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const attrs = args.attrs ?? {};
  const k = x.dtype === 'float32' ? leadingAxes(attrs.axis, x.shape) : 0;
  const rows = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
  if (k === 0 || rows < 2) return original(args) as TensorInfo;
  const rest = x.shape.slice(k);
  const cols = rest.reduce((p, q) => p * q, 1);
  const backend = args.backend as HeapBackend;
  const outShape = attrs.keepDims === true ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
  if (rows >= MATMUL_MIN_ROWS) {
    return withScope(backend, backendName, (s) => {
      const y = s.run('BatchMatMul', { a: s.view(x, [1, rows, cols]), b: onesColumn(backend, rows) }, { transposeA: true, transposeB: false });
      return s.view(mean ? s.run('Multiply', { a: y, b: s.scalar(1 / rows) }) : y, outShape);
    });
  }
  const out = backend.makeOutput(outShape, 'float32');
  const o = backend.typedArrayFromHeap(out) as Float32Array; // views after the allocation (heap growth)
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) acc[j] += xs[base + j]!;
  }
  const scale = mean ? 1 / rows : 1;
  for (let j = 0; j < cols; j++) o[j] = acc[j]! * scale;
  return out;
}

export function sumLeadingFast(args: KernelArgs, backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, backendName, original, false);
}

export function meanLeadingFast(args: KernelArgs, backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, backendName, original, true);
}
