// Training-mode batch norm as ONE differentiable op: normalise x over every axis but the last with the batch's
// own statistics, scale and shift. What tfjs-layers builds from tf.moments + tf.batchNorm (the same values),
// run by the project's BATCH_NORM_TRAINING kernel: TensorFlow's fused kernels on the native backend, a
// closed-form composite on wasm and cpu (kernels/native.ts, kernels/batch-norm-training.ts).
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../kernels/names.js';

export interface BatchNormTrainingResult {
  y: tf.Tensor;
  /** The batch mean and (biased) variance per channel, for the layer's moving averages. Not differentiated. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/** Whether the active backend has the kernel (else use tf.moments + tf.batchNorm). */
export function hasBatchNormTraining(): boolean {
  return tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) !== undefined;
}

export function batchNormTraining(x: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number): BatchNormTrainingResult {
  const [y, mean, variance, ...reserve] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x, scale, offset }, { epsilon }) as tf.Tensor[];
  tf.dispose(reserve); // the tape keeps its own references for the gradient
  return { y: y!, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

export const batchNormTrainingGrad: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'scale'],
  // mean, variance and the backend's reserve spaces (outputs past the last are ignored where a backend has fewer)
  outputsToSave: [false, true, true, true, true, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, scale, mean, variance, ...reserve] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, ...tf.Tensor[]];
    const dy = (dys as (tf.Tensor | null)[])[0] ?? tf.zerosLike(x);
    const inputs: tf.NamedTensorMap = { dy, x, scale, mean, variance };
    reserve.forEach((r, i) => (inputs[`reserve${i}`] = r));
    // Computed once here, not in the closures: the engine runs each closure in its own tidy.
    const [dx, dscale, doffset] = tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, inputs, attrs) as tf.Tensor[];
    return { x: () => dx!, scale: () => dscale!, offset: () => doffset! };
  },
};
