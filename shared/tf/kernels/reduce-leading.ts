// Sum and Mean over LEADING axes (bias gradients, batch-norm statistics: axes [0,1,2] of NHWC) as one
// sequential pass over the heap: out[j] = Σ_i x[i, j]. The wasm backend's own reduction first transposes the
// reduced axes to the end (a full copy with a strided access pattern) and then reduces: ~7× slower here.
// (A matmul with a ones vector is fast only while XNNPACK's operator for x stays cached by x's id, which is
// unsafe when the same tensor is reduced under another shape; repacking x per call costs more than the sum.)
// Float64 accumulators. Any other axis set goes to the backend's own kernel.
import * as tf from '@tensorflow/tfjs';
import type { HeapBackend, KernelArgs, KernelFn, TensorInfo } from './kernel-scope.js';

/** The number of leading axes reduced when `axis` is exactly [0..k-1] with 0 < k < rank, else 0. */
export function leadingAxes(axis: unknown, shape: number[]): number {
  const axes = tf.util.parseAxisParam(axis as number | number[], shape).slice().sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function reduceLeading(args: KernelArgs, original: KernelFn, mean: boolean): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const attrs = args.attrs ?? {};
  const k = x.dtype === 'float32' ? leadingAxes(attrs.axis, x.shape) : 0;
  const rows = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
  if (k === 0 || rows < 2) return original(args) as TensorInfo;
  const rest = x.shape.slice(k);
  const cols = rest.reduce((p, q) => p * q, 1);
  const backend = args.backend as HeapBackend;
  const out = backend.makeOutput(attrs.keepDims === true ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest, 'float32');
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

export function sumLeadingFast(args: KernelArgs, _backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, original, false);
}

export function meanLeadingFast(args: KernelArgs, _backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, original, true);
}
