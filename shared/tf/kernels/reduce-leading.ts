// Sum and Mean over LEADING axes (bias gradients, batch-norm statistics: axes [0,1,2] of NHWC) as one
// matrix product ones[1, A] × x[A, B]. The wasm backend's own reduction first transposes the reduced axes to the
// end (a full copy with a poor access pattern) and then reduces; the matmul reads x once, on XNNPACK's GEMM.
// Any other axis set goes to the backend's own kernel. x goes in as `b` under a fresh id (see KernelScope.alias):
// the backend caches the matmul operator by b's id and would reuse it for another view of the same tensor.
import * as tf from '@tensorflow/tfjs';
import { type KernelArgs, type KernelFn, type TensorInfo, withScope } from './kernel-scope.js';

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
  const a = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
  if (k === 0 || a < 2) return original(args) as TensorInfo;
  const rest = x.shape.slice(k);
  const b = rest.reduce((p, q) => p * q, 1);
  return withScope(args.backend, backendName, (s) => {
    const ones = s.alloc([1, 1, a]);
    (s.backend.typedArrayFromHeap(ones) as Float32Array).fill(mean ? 1 / a : 1);
    const y = s.run('BatchMatMul', { a: ones, b: s.alias(x, [1, a, b]) }, { transposeA: false, transposeB: false });
    return s.view(y, attrs.keepDims === true ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest);
  });
}

export function sumLeadingFast(args: KernelArgs, backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, backendName, original, false);
}

export function meanLeadingFast(args: KernelArgs, backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, backendName, original, true);
}
