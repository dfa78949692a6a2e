// UnsortedSegmentSum for the wasm backend (the gradient of gather, e.g. embedding lookups): a loop over the heap.
// out[ids[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as TensorFlow does.
import type { HeapBackend, KernelArgs, TensorInfo } from './kernel-scope.js';

export function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = Number((args.attrs ?? {}).numSegments);
  const backend = args.backend as HeapBackend;
  const idRank = segmentIds.shape.length;
  for (let d = 0; d < idRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] is not a prefix of x [${x.shape}]`);
    }
  }
  const inner = x.shape.slice(idRank).reduce((a, b) => a * b, 1);
  const count = segmentIds.shape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idRank)], x.dtype);
  const o = backend.typedArrayFromHeap(out);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  o.fill(0);
  for (let i = 0; i < count; i++) {
    const seg = ids[i]!;
    if (seg < 0 || seg >= numSegments) continue;
    const src = i * inner;
    const dst = seg * inner;
    for (let k = 0; k < inner; k++) o[dst + k] = o[dst + k]! + xs[src + k]!;
  }
  return out;
}
