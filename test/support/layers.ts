// Two layers to compare (ours and tfjs-layers'), built for one input shape with the same weights.
import { tf } from '../../shared/tf/index.js';

export function buildWithWeights(shape: number[], layers: [tf.layers.Layer, tf.layers.Layer], weights: (shapes: number[][]) => tf.Tensor[]): [tf.layers.Layer, tf.layers.Layer] {
  for (const l of layers) l.build(shape);
  const values = weights(layers[1].getWeights().map((w) => w.shape));
  for (const l of layers) l.setWeights(values);
  tf.dispose(values);
  return layers;
}

/** Frees layers' weights (a layer applied only to concrete tensors cannot be disposed). */
export function freeWeights(...layers: tf.layers.Layer[]): void {
  for (const l of layers) for (const w of l.weights) (w as unknown as { dispose(): void }).dispose();
}
