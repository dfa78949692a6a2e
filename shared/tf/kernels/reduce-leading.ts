// Sum and Mean over LEADING axes (bias gradients, batch-norm statistics: axes [0,1,2] of NHWC): out[j] = Σ_i x[i, j].
// The wasm backend's own reduction first transposes the reduced axes to the end (a full copy with a strided access
// pattern) and then reduces: ~7× slower. Here x is seen as a [1, rows, 1, cols] image and averaged by ONE
// XNNPACK average pooling with a rows×1 window, a single streaming pass: 0.57 ms for [65536, 32], where x·1 as a
// matmul (a one-column GEMM, padded to XNNPACK's 8-column tiles) took 4.1 ms and a JS pass 11 ms; 3–70× faster
// than the matmul from [16, 10] to [262144, 3]. A sum is that mean times rows.
// Any other axis set goes to the backend's own kernel.
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
  const rows = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
  if (k === 0 || rows < 2) return original(args) as TensorInfo;
  const rest = x.shape.slice(k);
  const cols = rest.reduce((p, q) => p * q, 1);
  const outShape = attrs.keepDims === true ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
  return withScope(args.backend, backendName, (s) => {
    const avg = s.run('AvgPool', { x: s.view(x, [1, rows, 1, cols]) }, { filterSize: [rows, 1], strides: [rows, 1], pad: 'valid', dimRoundingMode: undefined });
    return s.view(mean ? avg : s.run('Multiply', { a: avg, b: s.scalar(rows) }), outShape);
  });
}

export function sumLeadingFast(args: KernelArgs, backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, backendName, original, false);
}

export function meanLeadingFast(args: KernelArgs, backendName: string, original: KernelFn): TensorInfo {
  return reduceLeading(args, backendName, original, true);
}
