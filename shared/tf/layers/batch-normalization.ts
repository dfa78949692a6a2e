// tf.layers' BatchNormalization with a faster training step: the same layer (weights, config, serialisation,
// inference), whose training-mode call runs the fused batchNormTraining op instead of tf.moments + tf.batchNorm
// where the backend has its kernel. It replaces tfjs-layers' class in the serialisation registry under the same
// name, so saved models stay plain Keras-format BatchNormalization and load back into this class.
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, hasBatchNormTraining } from '../ops/batch-norm-training.js';

type LayerArgs = Parameters<typeof tf.layers.batchNormalization>[0];

/** The fields of tfjs-layers' BatchNormalization this subclass reads (its public surface types none of them). */
interface TfjsBatchNormalization extends tf.layers.Layer {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: { read(): tf.Tensor };
  beta?: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
}

// tfjs-layers exports the factory, not the class: take the class from an instance (no weights until built).
type TfjsBatchNormalizationClass = (new (args?: LayerArgs) => TfjsBatchNormalization) &
  Pick<tf.serialization.SerializableConstructor<TfjsBatchNormalization>, 'fromConfig'>;
const Base = (tf.layers.batchNormalization({}) as object).constructor as TfjsBatchNormalizationClass;

export class BatchNormalization extends Base {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const lastAxis = this.axis === -1 || this.axis === x.rank - 1;
    const rows = x.size / (x.shape[x.rank - 1] ?? 1);
    const fused = kwargs.training === true && lastAxis && (x.rank === 4 || x.rank === 2) && rows > 1 &&
      this.gamma !== undefined && this.beta !== undefined && hasBatchNormTraining();
    if (!fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, this.gamma!.read() as tf.Tensor1D, this.beta!.read() as tf.Tensor1D, this.epsilon);
      // The moving averages exactly as tfjs-layers updates them: v ← v - (v - batch)·(1 - momentum).
      for (const [variable, value] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        tf.tidy(() => {
          const v = variable.read();
          variable.write(tf.sub(v, tf.mul(tf.sub(v, value), 1 - this.momentum)));
        });
      }
      return y;
    });
  }
}
tf.serialization.registerClass(BatchNormalization);

/** Drop-in for tf.layers.batchNormalization. */
export function batchNormalization(args?: LayerArgs): tf.layers.Layer {
  return new BatchNormalization(args);
}
