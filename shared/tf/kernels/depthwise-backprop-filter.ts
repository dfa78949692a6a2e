// DepthwiseConv2dNativeBackpropFilter for the wasm backend: a direct loop over the heap (correct, not tuned;
// depthwise convolutions are not in the project's models).
// dW[kh, kw, c, m] = Σ_{n,oh,ow} x[n, oh·s + kh·d - top, ow·s + kw·d - left, c] · dy[n, oh, ow, c·M + m]
import type { HeapBackend, KernelArgs, TensorInfo } from './kernel-scope.js';
import { depthwiseInfo } from './depthwise-geometry.js';

export function depthwiseConv2dBackpropFilter(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs ?? {};
  const backend = args.backend as HeapBackend;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = depthwiseInfo(x.shape, filterShape, attrs);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , mult] = filterShape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;

  const out = backend.makeOutput(filterShape, 'float32');
  const dw_ = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dw_.fill(0);
  const oc = c * mult;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const fBase = (i * kw + j) * oc;
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < oh; y++) {
          const iy = y * sh + i * dh - top;
          if (iy < 0 || iy >= h) continue;
          for (let xo = 0; xo < ow; xo++) {
            const ix = xo * sw + j * dw - left;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((b * h + iy) * w + ix) * c;
            const gBase = ((b * oh + y) * ow + xo) * oc;
            for (let ch = 0; ch < c; ch++) {
              const xv = xs[xBase + ch]!;
              for (let m = 0; m < mult; m++) {
                const k = fBase + ch * mult + m;
                dw_[k] = dw_[k]! + xv * g[gBase + ch * mult + m]!;
              }
            }
          }
        }
      }
    }
  }
  return out;
}
