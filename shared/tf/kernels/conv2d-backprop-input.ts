// Conv2DBackpropInput (the input gradient of conv2d, i.e. the forward pass of a transposed convolution) as ONE
// stride-1 conv2d plus depth-to-space ("sub-pixel" form). The wasm backend's own kernel is a slow scatter loop
// (~3 GFLOP/s); this runs on XNNPACK's convolution like every forward conv.
//
// With stride s, filter k and top padding P, an output row i of the full (uncropped) result t = i + P = u·s + r
// receives dy[u - m] · w[m·s + r] for m = 0..M-1, M = ceil(k / s). So every phase r is a stride-1 correlation
// of dy with an M-tap sub-filter, and the s·s phases of both axes are the s·s·ci output channels of one conv:
//   filter'[jh, jw, co, (rh·s + rw)·ci + c] = w[(M-1-jh)·s + rh, (M-1-jw)·s + rw, c, co]   (0 beyond k)
// dy is padded by M-1 on top/left; depth-to-space interleaves the phases; a slice removes the padding rows.
// Only kernels that are fast on wasm are used (3-D/4-D transposes, contiguous slices, concat).
// When k is a multiple of s (DCGAN's 4/2) no multiply is wasted and one conv computes every phase. Otherwise phase r
// has only M_r = ceil((k - r) / s) real taps (3×3/2: 2, 1) and one conv would multiply zeros (16 taps for 9), so
// each phase gets a conv of its own with its M_r taps and M_r - 1 rows of top padding; their outputs, concatenated
// in phase order, are the one conv's output.
import * as tf from '@tensorflow/tfjs';
import { type KernelArgs, type KernelFn, type KernelScope, type TensorInfo, requireNhwc, withScope } from './kernel-scope.js';

export function conv2dBackpropInputViaConv(args: KernelArgs, backendName: string, fallback?: KernelFn): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs ?? {};
  requireNhwc('Conv2DBackpropInput', attrs.dataFormat);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  if (sh !== sw && fallback !== undefined) return fallback(args) as TensorInfo; // depth-to-space needs a square block
  if (sh !== sw) throw new Error('Conv2DBackpropInput: unequal strides need the fallback kernel');
  const [n, h, w, ci] = inputShape;
  const [, oh, ow, co] = dy.shape as [number, number, number, number];
  const { top, left } = info.padInfo;
  const s2 = sh * sw;
  const mh = Math.ceil(kh / sh);
  const mw = Math.ceil(kw / sw);

  if (oh === 1 && ow === 1 && h === kh && w === kw && top === 0 && left === 0) {
    // A 1×1 input spread over the whole filter (DCGAN's first layer): a plain matrix product
    // dx[n, (kh, kw, ci)] = dy[n, co] · Wᵀ[co, (kh, kw, ci)], where the conv form would be mostly padding.
    return withScope(args.backend, backendName, (s) => {
      const wt = s.run('Transpose', { x: s.view(filter, [kh * kw * ci, co]) }, { perm: [1, 0] });
      const y = s.run('BatchMatMul', { a: s.view(dy, [1, n, co]), b: s.view(wt, [1, co, kh * kw * ci]) }, { transposeA: false, transposeB: false });
      return s.view(y, [n, h, w, ci]);
    });
  }

  // Per-phase convs measured 35% faster on the ResNet's 3×3/2 layers, but 3–4× slower with 3 output channels (the
  // stem), where one conv with s·s·ci channels keeps XNNPACK busy. A filter smaller than its stride leaves phases
  // with no taps at all: the zero-padded form below covers both.
  const wastes = kh % sh !== 0 || kw % sw !== 0;
  if (wastes && kh >= sh && kw >= sw && inputShape[3] >= 8) return perPhase(args, backendName, info, inputShape);

  return withScope(args.backend, backendName, (s) => {
    // filter' from fast kernels only (on wasm, GatherV2 over the taps took 107 ms on DCGAN's 4×4×256×512 filter, and
    // 6-D Reverse/Transpose more): w zero-padded to M·s taps per axis, each tap's [co, ci] block sliced out in the
    // order (jh, jw, rh, rw) and concatenated, then (rh, rw) moved after co by one 4-D transpose.
    const [ph, pw] = [mh * sh, mw * sw];
    const padded = ph > kh || pw > kw
      ? s.run('PadV2', { x: filter }, { paddings: [[0, ph - kh], [0, pw - kw], [0, 0], [0, 0]], constantValue: 0 })
      : filter;
    const byTap = s.run('Transpose', { x: s.view(padded, [ph * pw, ci, co]) }, { perm: [0, 2, 1] }); // [tap, co, ci]
    const blocks: TensorInfo[] = [];
    for (let jh = 0; jh < mh; jh++) {
      for (let jw = 0; jw < mw; jw++) {
        for (let rh = 0; rh < sh; rh++) {
          for (let rw = 0; rw < sw; rw++) {
            const tap = flippedTap(jh, rh, mh, sh) * pw + flippedTap(jw, rw, mw, sw);
            blocks.push(s.run('Slice', { x: byTap }, { begin: [tap, 0, 0], size: [1, co, ci] }));
          }
        }
      }
    }
    const taps = blocks.length === 1 ? blocks[0]! : s.runMany('Concat', blocks, { axis: 0 });
    const ordered = s.run('Transpose', { x: s.view(taps, [mh * mw, s2, co, ci]) }, { perm: [0, 2, 1, 3] });
    const filt = s.view(ordered, [mh, mw, co, s2 * ci]);

    const { bottom, right } = info.padInfo;
    if (s2 === 1 && top <= kh - 1 && bottom <= kh - 1 && left <= kw - 1 && right <= kw - 1) {
      // Stride 1: a 'full' correlation with the flipped filter, padded so it yields exactly H×W (no crop copy).
      const pad1 = [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]];
      return s.run('Conv2D', { x: dy, filter: filt }, { strides: [1, 1], pad: pad1, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
    }
    const { uh, uw } = phaseRows(info, inputShape, oh, ow);
    const pad = [[0, 0], [mh - 1, uh - oh], [mw - 1, uw - ow], [0, 0]];
    const y = s.run('Conv2D', { x: dy, filter: filt }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
    return interleave(s, y, info, inputShape, uh, uw); // y: [n, uh, uw, s2·ci]
  });
}

type ConvInfo = tf.backend_util.Conv2DInfo;

/** Along one axis, the filter tap that phase r's j-th of m taps uses: s·(m-1-j) + r (the taps run flipped). */
function flippedTap(j: number, r: number, m: number, s: number): number {
  return (m - 1 - j) * s + r;
}

/** Phase rows u = 0..U-1 (and columns) that cover the full output rows P..P+H-1. */
function phaseRows(info: ConvInfo, [, h, w]: number[], oh: number, ow: number): { uh: number; uw: number } {
  return {
    uh: Math.max(Math.floor((info.padInfo.top + h - 1) / info.strideHeight) + 1, oh),
    uw: Math.max(Math.floor((info.padInfo.left + w - 1) / info.strideWidth) + 1, ow),
  };
}

/** The phases ([n, U, U', s·s·ci], phase-major channels) interleaved into dx and cropped to the input's size. */
function interleave(s: KernelScope, y: TensorInfo, info: ConvInfo, [n, h, w, ci]: number[], uh: number, uw: number): TensorInfo {
  const { strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Depth-to-space as one 4-D transpose ([n·U, U, s, s·ci] → [n·U, s, U, s·ci]): wasm's DepthToSpace kernel
  // took 64 ms on [32,5,5,1024], its Transpose a fraction of that.
  const full = sh * sw > 1
    ? s.view(s.run('Transpose', { x: s.view(y, [n! * uh, uw, sh, sw * ci!]) }, { perm: [0, 2, 1, 3] }), [n!, uh * sh, uw * sw, ci!])
    : y;
  if (top === 0 && left === 0 && full.shape[1] === h && full.shape[2] === w) return full;
  return s.run('Slice', { x: full }, { begin: [0, top, left, 0], size: [n!, h!, w!, ci!] });
}

/** The filter taps s·j + r (j = M_r-1 … 0, flipped) of one phase, as a conv filter [M_rh, M_rw, co, ci]. */
function phaseFilter(s: KernelScope, byTap: TensorInfo, kw: number, [rh, rw]: [number, number], [mrh, mrw]: [number, number], [sh, sw]: [number, number]): TensorInfo {
  const [, co, ci] = byTap.shape as [number, number, number];
  const blocks: TensorInfo[] = [];
  for (let jh = 0; jh < mrh; jh++) {
    for (let jw = 0; jw < mrw; jw++) {
      const tap = flippedTap(jh, rh, mrh, sh) * kw + flippedTap(jw, rw, mrw, sw);
      blocks.push(s.run('Slice', { x: byTap }, { begin: [tap, 0, 0], size: [1, co, ci] }));
    }
  }
  const taps = blocks.length === 1 ? blocks[0]! : s.runMany('Concat', blocks, { axis: 0 });
  return s.view(taps, [mrh, mrw, co, ci]);
}

/** A filter that does not tile its stride: one conv per phase with that phase's real taps only. */
function perPhase(args: KernelArgs, backendName: string, info: ConvInfo, inputShape: [number, number, number, number]): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const [, , , ci] = inputShape;
  const [, oh, ow, co] = dy.shape as [number, number, number, number];
  return withScope(args.backend, backendName, (s) => {
    const byTap = s.run('Transpose', { x: s.view(filter, [kh * kw, ci, co]) }, { perm: [0, 2, 1] }); // [tap, co, ci]
    const { uh, uw } = phaseRows(info, inputShape, oh, ow);
    const phases: TensorInfo[] = [];
    for (let rh = 0; rh < sh; rh++) {
      for (let rw = 0; rw < sw; rw++) {
        const [mrh, mrw] = [Math.ceil((kh - rh) / sh), Math.ceil((kw - rw) / sw)];
        const filt = phaseFilter(s, byTap, kw, [rh, rw], [mrh, mrw], [sh, sw]);
        // Output row u is still Σ dy[u - m]·w[m·s + r]: only the top padding shrinks with the taps.
        const pad = [[0, 0], [mrh - 1, uh - oh], [mrw - 1, uw - ow], [0, 0]];
        phases.push(s.run('Conv2D', { x: dy, filter: filt }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined }));
      }
    }
    return interleave(s, s.runMany('Concat', phases, { axis: 3 }), info, inputShape, uh, uw);
  });
}
