// Names of the kernels the project defines itself (tfjs has no kernel for these steps). Each is registered per
// backend, and the op or gradient that uses one checks that the active backend has it, else computes the same
// thing from tfjs's own kernels.

/** Training-mode batch norm over every axis but the last: inputs {x, scale, offset}, attrs {epsilon};
 *  outputs [y, batch mean, batch variance (biased, as tf.moments), ...backend-private reserves for the gradient]. */
export const BATCH_NORM_TRAINING = 'CxrBatchNormTraining';
/** Its gradient: inputs {dy, x, scale, mean, variance, reserve0..2 where the forward made them}, attrs {epsilon};
 *  outputs [dx, dscale, doffset]. */
export const BATCH_NORM_TRAINING_GRAD = 'CxrBatchNormTrainingGrad';
/** dy · (x > 0), in one pass: inputs {dy, x}. */
export const RELU_GRAD = 'CxrReluGrad';
/** dy · (x > 0 ? 1 : alpha), in one pass: inputs {dy, x}, attrs {alpha}. */
export const LEAKY_RELU_GRAD = 'CxrLeakyReluGrad';
