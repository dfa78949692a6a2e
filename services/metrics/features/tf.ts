// The one place the metrics code imports TensorFlow.js from. The compute engineer's shared/tf picks
// the backend for the whole process; until it lands we import @tensorflow/tfjs directly (cpu backend
// unless the process chose another). Switching is a one-line change here.
import * as tf from '@tensorflow/tfjs';

export { tf };

export function backendName(): string {
  return tf.getBackend();
}
