// Conv2DBackpropFilter (the weight gradient of conv2d) for backends that lack it, as ONE forward conv2d:
//   dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s + kh, ow·s + kw, ci] · dy[n,oh,ow,co]
// Seen as a convolution of xpadᵀ [ci, H, W, n] (batch = ci, channels = n) with dyᵀ [oh, ow, n, co] as the filter,
// stride 1 and dilation s, it is exactly what Conv2D computes; the output [ci, kh, kw, co] is transposed back.
// The input is cropped/padded to exactly the rows and columns the filter reaches, so no output is wasted.
import * as tf from '@tensorflow/tfjs';
import { type Attrs, type KernelArgs, type KernelScope, type TensorInfo, requireNhwc, withScope } from './kernel-scope.js';

/** The conv's geometry, as Conv2DBackpropFilter's attributes give it. */
export function filterGradientInfo(x: TensorInfo, attrs: Attrs): tf.backend_util.Conv2DInfo {
  requireNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

/** x cropped/padded to exactly the rows and columns any filter tap reaches: [n, (oh-1)·sh + kh, (ow-1)·sw + kw, ci]. */
export function reachedInput(s: KernelScope, x: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const bottom = (oh - 1) * sh + kh - top - h;
  const right = (ow - 1) * sw + kw - left - w;
  let xin = x;
  if (bottom < 0 || right < 0) {
    xin = s.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [n, h + Math.min(bottom, 0), w + Math.min(right, 0), ci] });
  }
  if (top > 0 || left > 0 || bottom > 0 || right > 0) {
    const paddings = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
    xin = s.run('PadV2', { x: xin }, { paddings, constantValue: 0 });
  }
  return xin;
}

export function conv2dBackpropFilterViaConv(args: KernelArgs, backendName: string): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const info = filterGradientInfo(x, args.attrs ?? {});
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;

  return withScope(args.backend, backendName, (s) => {
    const xin = reachedInput(s, x, info);
    const xt = s.run('Transpose', { x: xin }, { perm: [3, 1, 2, 0] }); // [ci, needH, needW, n]
    const dyt = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [oh, ow, n, co]
    const g = s.run(
      'Conv2D',
      { x: xt, filter: dyt },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
    ); // [ci, kh, kw, co]
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      throw new Error(`Conv2DBackpropFilter: internal shape [${g.shape}] for filter [${[kh, kw, ci, co]}]`);
    }
    const out = s.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
    if (out.shape[2] !== ci || out.shape[3] !== co) throw new Error('Conv2DBackpropFilter: channel mismatch');
    return out;
  });
}
