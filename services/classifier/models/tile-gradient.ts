// A fast gradient for Tile, which tfjs-layers' LayerNormalization uses to broadcast its mean, variance, gamma
// and beta to the full input shape. tfjs-core's own Tile gradient adds one slice of dy per repetition
// (N·H·W slices for a [N, H, W, C] LayerNorm), which made a ConvNeXt training step ~17× slower than a ResNet
// step. The same sum in two ops: reshape dy to [r0, x0, r1, x1, …] and reduce over the repetition axes.
// Values are identical up to float rounding (test/unit/classifier-models.test.ts checks it against tfjs-core).
// Process-global, like shared/tf/gradients.ts — it belongs there (reported to the compute engineer).
import { tf } from '../../../shared/tf/index.js';

export const fastTileGrad: tf.GradConfig = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const g = dy as tf.Tensor;
    const [x] = saved as [tf.Tensor];
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

let done = false;

/** Idempotent; replaces tfjs-core's Tile gradient for all backends. */
export function registerFastTileGradient(): void {
  if (done) return;
  tf.unregisterGradient('Tile');
  tf.registerGradient(fastTileGrad);
  done = true;
}
