// Shared geometry for the depthwise gradient kernels: the forward conv's info in NHWC.
import * as tf from '@tensorflow/tfjs';
import type { Attrs } from './kernel-scope.js';

export function depthwiseInfo(
  inShape: number[],
  filterShape: number[],
  attrs: Attrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    (attrs.dilations as [number, number] | number | undefined) ?? 1,
    attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    true,
  );
}
