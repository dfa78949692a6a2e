// A faster gradient for tfjs-core's FusedBatchNorm (what tf.batchNorm and tf.layers.batchNormalization run).
// tfjs-core's own gradient tiles 1/sqrt(var) to the full tensor shape and sums four full-size products; the
// same formulas need only two reductions, Σdy and Σdy·(x-mean), and broadcasting multiplies. Values are
// identical up to float rounding (checked against tfjs-core's gradient in test/unit/tf-gradients.test.ts).
// Registered for every backend: a gradient is backend-neutral maths.
import * as tf from '@tensorflow/tfjs';
import { LEAKY_RELU_GRAD, RELU_GRAD } from './kernels/names.js';
import { batchNormTrainingGrad } from './ops/batch-norm-training.js';

type Tensor = tf.Tensor;

function reductionAxes(meanShape: number[], xShape: number[]): number[] {
  return tf.backend_util.getReductionAxes(meanShape, xShape);
}

export const fastFusedBatchNormGrad: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as Tensor;
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const axes = mean.rank === 1 ? reductionAxes(mean.shape, x.shape) : [];
    const reduce = (t: Tensor): Tensor => tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    const inv = tf.rsqrt(tf.add(variance, tf.scalar(eps)));
    const s = scale ?? tf.scalar(1);
    // Shared by several inputs' gradients, so computed here: the engine runs each closure below in its own tidy,
    // which would dispose a value memoised by the first. Tensors made here live until the backward pass ends.
    const sumDy = reduce(g);
    const sumDyXc = reduce(tf.mul(g, tf.sub(x, mean)));
    const getSumDy = (): Tensor => sumDy;
    const getSumDyXc = (): Tensor => sumDyXc;
    return {
      x: () => tf.mul(g, tf.mul(inv, s)),
      mean: () => tf.neg(tf.mul(tf.mul(inv, s), getSumDy())),
      variance: () => tf.mul(tf.mul(tf.mul(tf.pow(inv, tf.scalar(3)), s), tf.scalar(-0.5)), getSumDyXc()),
      scale: () => tf.mul(inv, getSumDyXc()),
      offset: () => getSumDy(),
    };
  },
};

// Tile, which tfjs-layers' LayerNormalization uses to broadcast its mean, variance, gamma and beta to the full
// input shape: tfjs-core's gradient adds one slice of dy per repetition (N·H·W slices for a [N, H, W, C]
// LayerNorm), which made a ConvNeXt training step ~17× slower than a ResNet step. The same sum in two ops:
// reshape dy to [r0, x0, r1, x1, …] and reduce over the repetition axes (checked in classifier-models.test.ts).
export const fastTileGrad: tf.GradConfig = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as Tensor;
    const [x] = saved as [Tensor];
    const reps = (attrs as unknown as { reps: number[] }).reps;
    return {
      x: () => {
        const interleaved: number[] = [];
        const repAxes: number[] = [];
        x.shape.forEach((n, i) => {
          repAxes.push(interleaved.length);
          interleaved.push(reps[i]!, n);
        });
        return tf.reshape(tf.sum(tf.reshape(g, interleaved), repAxes), x.shape);
      },
    };
  },
};

/** tfjs-core's own FusedBatchNorm gradient, captured before it is replaced (the reference in tests). */
export const coreFusedBatchNormGrad: tf.GradConfig | undefined = tf.getGradient('FusedBatchNorm');

/**
 * An activation's gradient through the backend's one-pass kernel where it has one (the native backend: see
 * kernels/native.ts), else through tfjs-core's own gradient, captured here before it is replaced.
 */
function viaBackendKernel(kernelName: 'Relu' | 'LeakyRelu', gradKernel: string): tf.GradConfig {
  const core = tf.getGradient(kernelName);
  if (core === undefined) throw new Error(`tfjs-core has no ${kernelName} gradient to fall back to`);
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) => {
      if (tf.getKernel(gradKernel, tf.getBackend()) === undefined) return core.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(gradKernel, { dy: dy as Tensor, x: saved[0]! }, attrs) as Tensor };
    },
  };
}

export const fastReluGrad = viaBackendKernel('Relu', RELU_GRAD);
export const fastLeakyReluGrad = viaBackendKernel('LeakyRelu', LEAKY_RELU_GRAD);

let done = false;

/**
 * Idempotent; replaces tfjs-core's FusedBatchNorm, Tile, Relu and LeakyRelu gradients for all backends, and
 * registers the gradient of the project's batch-norm training op.
 */
export function registerFastGradients(): void {
  if (done) return;
  for (const grad of [fastFusedBatchNormGrad, fastTileGrad, fastReluGrad, fastLeakyReluGrad, batchNormTrainingGrad]) {
    if (tf.getGradient(grad.kernelName) !== undefined) tf.unregisterGradient(grad.kernelName);
    tf.registerGradient(grad);
  }
  done = true;
}
