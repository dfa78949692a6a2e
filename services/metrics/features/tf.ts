// The metrics code's handle on TensorFlow.js: the project's shared/tf (one tf instance, backend chosen
// once at start-up by initTf in main.ts). backendName() asks tf itself, so it also answers before
// initTf has run (tests, benchmarks): then it is tfjs' own default, cpu.
import { tf } from '../../../shared/tf/index.js';

export { tf };

export function backendName(): string {
  return tf.getBackend();
}
