// DepthwiseConv2dNativeBackpropInput for the wasm backend: a direct scatter loop over the heap.
// Depthwise convolutions are not in the project's models; this exists so that any model using them can train
// (correct, not tuned). dx[n, oh·s + kh·d - top, ow·s + kw·d - left, c] += dy[n, oh, ow, c·M + m] · w[kh, kw, c, m]
import type { HeapBackend, KernelArgs, TensorInfo } from './kernel-scope.js';
import { depthwiseInfo } from './depthwise-geometry.js';

export function depthwiseConv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs ?? {};
  const backend = args.backend as HeapBackend;
  const inputShape = attrs.inputShape as number[];
  const info = depthwiseInfo(inputShape, filter.shape, attrs);
  const [n, h, w, c] = inputShape as [number, number, number, number];
  const [kh, kw, , mult] = filter.shape as [number, number, number, number];
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;

  const out = backend.makeOutput([n, h, w, c], 'float32');
  // Views only after every allocation: a heap growth would detach earlier ones.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const f = backend.typedArrayFromHeap(filter) as Float32Array;
  dx.fill(0);
  const oc = c * mult;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const gBase = ((b * oh + y) * ow + x) * oc;
        for (let i = 0; i < kh; i++) {
          const iy = y * sh + i * dh - top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = x * sw + j * dw - left;
            if (ix < 0 || ix >= w) continue;
            const dxBase = ((b * h + iy) * w + ix) * c;
            const fBase = (i * kw + j) * oc;
            for (let ch = 0; ch < c; ch++) {
              let acc = 0;
              for (let m = 0; m < mult; m++) acc += g[gBase + ch * mult + m]! * f[fBase + ch * mult + m]!;
              dx[dxBase + ch] = dx[dxBase + ch]! + acc;
            }
          }
        }
      }
    }
  }
  return out;
}
