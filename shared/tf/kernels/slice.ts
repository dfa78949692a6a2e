// Slice for wasm without copying the input out of the heap: tfjs-backend-wasm's own Slice starts with
// readSync(x), a full copy of x, so slicing one [co, ci] block out of a 2M-value filter cost 7 ms, and the sixteen
// of a transposed conv's filter rearrangement 113 ms. Here the input is read through a heap view and copied in
// contiguous runs (the last axis, or more where the slice spans whole trailing axes).
import * as tf from '@tensorflow/tfjs';
import type { HeapBackend, KernelArgs, KernelFn, TensorInfo } from './kernel-scope.js';

export function sliceFromHeap(args: KernelArgs, original: KernelFn): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string' || x.shape.length === 0) return original(args) as TensorInfo;
  const attrs = args.attrs ?? {};
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, attrs.begin as number[], attrs.size as number[]);
  const backend = args.backend as HeapBackend;
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x); // views after the allocation (heap growth)
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // Axes from `inner` on form one contiguous run: every axis after the first partial one (from the end) is whole.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === x.shape[inner]) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, inner);
  const index = outer.map(() => 0);
  let base = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
  for (let o = 0; o < total; o += run) {
    dst.set(src.subarray(base, base + run), o);
    // odometer over the outer axes, keeping `base` the flat offset of the current run
    for (let a = inner - 1; a >= 0; a--) {
      if (++index[a]! < outer[a]!) {
        base += strides[a]!;
        break;
      }
      base -= (outer[a]! - 1) * strides[a]!;
      index[a] = 0;
    }
  }
  return out;
}
