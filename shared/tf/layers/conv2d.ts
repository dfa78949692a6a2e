// tf.layers' Conv2D whose gradient computes only what the step needs: the same layer (weights, config,
// serialisation), whose call, for a convolution without bias or activation (the ones a batch norm follows), runs
// tf.conv2d instead of tf.fused.conv2d. tfjs-core differentiates the fused op through customGrad, which always
// computes both the input and the filter gradient; tf.conv2d's gradient computes each only when the tape needs it.
// So the first layer no longer computes a gradient for the images, and a frozen network (the discriminator in a
// GAN's generator step) no longer computes its weights' gradients: about a third of the discriminator's
// backward work in a DCGAN iteration, as PyTorch skips with requires_grad_(False).
// It replaces tfjs-layers' class in the serialisation registry under the same name, like batch-normalization.ts.
import * as tf from '@tensorflow/tfjs';

type LayerArgs = Parameters<typeof tf.layers.conv2d>[0];

/** The fields of tfjs-layers' Conv2D this subclass reads (its public surface types none of them). */
interface TfjsConv2D extends tf.layers.Layer {
  rank: number;
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  strides: [number, number];
  padding: 'same' | 'valid' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: [number, number];
  activation: { getClassName(): string };
}

// tfjs-layers exports the factory, not the class: take the class from an instance (no weights until built).
type TfjsConv2DClass = (new (args: LayerArgs) => TfjsConv2D) & Pick<tf.serialization.SerializableConstructor<TfjsConv2D>, 'fromConfig'>;
const Base = (tf.layers.conv2d({ filters: 1, kernelSize: 1 }) as object).constructor as TfjsConv2DClass;

export class Conv2D extends Base {
  static className = 'Conv2D';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] {
    const plain = this.bias === null && this.activation.getClassName() === 'linear' && this.dataFormat === 'channelsLast' && this.padding !== 'causal';
    if (!plain) return super.call(inputs, kwargs); // bias and activation fused into the conv pay for themselves
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.conv2d(x as tf.Tensor4D, this.kernel.read() as tf.Tensor4D, this.strides, this.padding as 'same' | 'valid', 'NHWC', this.dilationRate);
  }
}
tf.serialization.registerClass(Conv2D);

/** Drop-in for tf.layers.conv2d. */
export function conv2d(args: LayerArgs): tf.layers.Layer {
  return new Conv2D(args);
}
