// The faster FusedBatchNorm gradient gives tfjs-core's values (on the reference `cpu` backend), for every input
// that has a gradient, for 4-D (conv) and 2-D (dense) batch norm. (Without a scale tensor, tfjs-core's engine
// cannot save inputs for this gradient at all, with either implementation: tf.layers always passes gamma.)
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { coreFusedBatchNormGrad, fastFusedBatchNormGrad } from '../../shared/tf/gradients.js';
import { relativeError } from '../../shared/tf/testing/parity.js';

function use(config: tf.GradConfig): void {
  tf.unregisterGradient('FusedBatchNorm');
  tf.registerGradient(config);
}

async function gradsOf(shape: number[], withAffine: boolean): Promise<Float32Array[]> {
  const out = tf.tidy(() => {
    const c = shape[shape.length - 1]!;
    const x = tf.randomNormal(shape, 0, 2, 'float32', 1);
    const mean = tf.randomNormal([c], 0, 1, 'float32', 2);
    const variance = tf.randomUniform([c], 0.5, 2, 'float32', 3);
    const scale = tf.randomNormal([c], 1, 0.3, 'float32', 4);
    const offset = tf.randomNormal([c], 0, 1, 'float32', 5);
    const up = tf.randomNormal(shape, 0, 1, 'float32', 6);
    if (withAffine) {
      return tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), up)))([x, mean, variance, scale, offset]);
    }
    return tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a, m, v, undefined, undefined, 1e-5), up)))([x, mean, variance]);
  });
  const arrays = await Promise.all(out.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(out);
  return arrays;
}

describe('fast FusedBatchNorm gradient', () => {
  it('captured tfjs-core\'s own gradient as the reference', () => {
    expect(coreFusedBatchNormGrad?.kernelName).toBe('FusedBatchNorm');
    expect(coreFusedBatchNormGrad?.gradFunc).not.toBe(fastFusedBatchNormGrad.gradFunc);
  });

  it.each([
    [[4, 5, 5, 3], true],
    [[2, 3, 7, 8], true],
    [[16, 6], true],
  ] as const)('matches tfjs-core for x%j affine=%s', async (shape, affine) => {
    await tf.setBackend('cpu');
    use(coreFusedBatchNormGrad!);
    const ref = await gradsOf([...shape], affine);
    use(fastFusedBatchNormGrad);
    const got = await gradsOf([...shape], affine);
    expect(got.length).toBe(affine ? 5 : 3);
    expect(relativeError(ref, got)).toBeLessThanOrEqual(1e-5);
  });
});
