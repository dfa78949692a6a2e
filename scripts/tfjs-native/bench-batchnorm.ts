// What limits the native backend on the study's models, and the fix for shared/tf (compute engineer):
//   node --import tsx scripts/tfjs-native/bench-batchnorm.ts [threads]
// Training-mode batch norm as tfjs-layers does it (tf.moments + tf.batchNorm, differentiated by tfjs-core's JS
// gradients: dozens of elementwise kernels) against TensorFlow's own fused kernels, FusedBatchNormV3 and
// FusedBatchNormGradV3, executed through tfjs-node's binding. Profiling the ResNet step on this backend put ~45% of
// its CPU time in batch norm; its convolutions alone run within ~1.3x of PyTorch's.
// Prints values from both paths (they must agree) and ms per forward+backward.
import type * as tfjs from '@tensorflow/tfjs';

const threads = process.argv[2] ?? '1';
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
process.env.TF_NUM_INTRAOP_THREADS = threads; // read when TensorFlow's eager context is created, during the import
process.env.TF_NUM_INTEROP_THREADS = threads;
const mod = await import('@tensorflow/tfjs-node');
const tf = (mod.default ?? mod) as unknown as typeof tfjs;

/** The slice of tfjs-node's NodeJSKernelBackend used to run a TensorFlow op by name. */
interface NativeBackend {
  binding: Record<string, number>;
  executeMultipleOutputs(op: string, attrs: { name: string; type: number; value: unknown }[], inputs: tfjs.Tensor[], n: number): tfjs.Tensor[];
}
const be = tf.backend() as unknown as NativeBackend;
const B = be.binding;
const EPS = 1e-3;
const common = [
  { name: 'T', type: B.TF_ATTR_TYPE!, value: B.TF_FLOAT },
  { name: 'U', type: B.TF_ATTR_TYPE!, value: B.TF_FLOAT },
  { name: 'epsilon', type: B.TF_ATTR_FLOAT!, value: EPS },
  { name: 'data_format', type: B.TF_ATTR_STRING!, value: 'NHWC' },
  { name: 'is_training', type: B.TF_ATTR_BOOL!, value: true },
];
const fwdAttrs = [...common, { name: 'exponential_avg_factor', type: B.TF_ATTR_FLOAT!, value: 1 }];

/** Training-mode batch norm over N, H, W of an NHWC tensor with TensorFlow's fused kernels, forward and backward. */
const fusedBatchNorm = tf.customGrad((...args: unknown[]) => {
  const [x, scale, offset] = args as tfjs.Tensor[];
  const save = args[3] as (ts: tfjs.Tensor[]) => void;
  const empty = tf.tensor1d([]); // no population statistics in training mode
  // Outputs: y, batch mean, batch variance (Bessel-corrected, for moving averages), three reserve spaces for the grad.
  const [y, , , r1, r2, r3] = be.executeMultipleOutputs('FusedBatchNormV3', fwdAttrs, [x!, scale!, offset!, empty, empty], 6);
  save([x!, scale!, r1!, r2!, r3!]);
  return {
    value: y!,
    gradFunc: (dy: tfjs.Tensor | tfjs.Tensor[], saved: tfjs.Tensor[]) => {
      const [dx, dScale, dOffset] = be.executeMultipleOutputs('FusedBatchNormGradV3', common, [dy as tfjs.Tensor, ...saved], 5);
      return [dx!, dScale!, dOffset!];
    },
  };
}) as (x: tfjs.Tensor, scale: tfjs.Tensor, offset: tfjs.Tensor) => tfjs.Tensor;

function layersBatchNorm(x: tfjs.Tensor, scale: tfjs.Tensor, offset: tfjs.Tensor): tfjs.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, offset as tfjs.Tensor1D, scale as tfjs.Tensor1D, EPS);
}

const x = tf.randomNormal([16, 64, 64, 32], 0, 1, 'float32', 1);
const w = tf.randomNormal([16, 64, 64, 32], 0, 1, 'float32', 2);
const gamma = tf.randomUniform([32], 0.5, 1.5, 'float32', 3);
const beta = tf.randomUniform([32], -0.5, 0.5, 'float32', 4);
for (const [name, bn] of [['tfjs moments + batchNorm', layersBatchNorm], ['FusedBatchNormV3 + GradV3', fusedBatchNorm]] as const) {
  const grads = tf.grads((a: tfjs.Tensor, g: tfjs.Tensor, b: tfjs.Tensor) => tf.sum(tf.mul(bn(a, g, b), w)));
  const [dx, dg, db] = grads([x, gamma, beta]);
  for (let i = 0; i < 2; i++) tf.dispose(grads([x, gamma, beta]));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) tf.dispose(grads([x, gamma, beta]));
  const cpu = process.cpuUsage(c0);
  console.log(JSON.stringify({
    path: name, threads: Number(threads), wall_ms: Math.round((performance.now() - t0) / 5), cpu_ms: Math.round((cpu.user + cpu.system) / 5000),
    dx0: Number(dx!.dataSync()[0]!.toFixed(5)), dgamma0: Number(dg!.dataSync()[0]!.toFixed(3)), dbeta0: Number(db!.dataSync()[0]!.toFixed(3)),
  }));
  tf.dispose([dx!, dg!, db!]);
}
