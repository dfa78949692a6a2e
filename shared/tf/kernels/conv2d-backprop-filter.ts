// Conv2DBackpropFilter (the weight gradient of conv2d) for backends that lack it, as ONE forward conv2d:
//   dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s + kh, ow·s + kw, ci] · dy[n,oh,ow,co]
// Seen as a convolution of xpadᵀ [ci, H, W, n] (batch = ci, channels = n) with dyᵀ [oh, ow, n, co] as the filter,
// stride 1 and dilation s, it is exactly what Conv2D computes; the output [ci, kh, kw, co] is transposed back.
// The input is cropped/padded to exactly the rows and columns the filter reaches, so no output is wasted.
import * as tf from '@tensorflow/tfjs';
import { type KernelArgs, type TensorInfo, requireNhwc, withScope } from './kernel-scope.js';

export function conv2dBackpropFilterViaConv(args: KernelArgs, backendName: string): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs ?? {};
  requireNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const co = filterShape[3];

  return withScope(args.backend, backendName, (s) => {
    // Rows/columns of the padded input that any filter tap reaches.
    const needH = (oh - 1) * sh + kh;
    const needW = (ow - 1) * sw + kw;
    let xin = x;
    const bottom = needH - top - h;
    const right = needW - left - w;
    if (bottom < 0 || right < 0) {
      xin = s.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [n, h + Math.min(bottom, 0), w + Math.min(right, 0), ci] });
    }
    if (top > 0 || left > 0 || bottom > 0 || right > 0) {
      const paddings = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
      xin = s.run('PadV2', { x: xin }, { paddings, constantValue: 0 });
    }
    const xt = s.run('Transpose', { x: xin }, { perm: [3, 1, 2, 0] }); // [ci, needH, needW, n]
    const dyt = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, n, co]
    const g = s.run(
      'Conv2D',
      { x: xt, filter: dyt },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
    ); // [ci, kh, kw, co]
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      throw new Error(`Conv2DBackpropFilter: internal shape [${g.shape}] for filter [${filterShape}]`);
    }
    const out = s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
    if (out.shape[2] !== ci || out.shape[3] !== co) throw new Error('Conv2DBackpropFilter: channel mismatch');
    return out;
  });
}
