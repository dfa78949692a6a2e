// Kernels for the native `tensorflow` backend (tfjs-node) that run ONE TensorFlow op where tfjs composes many:
// training-mode batch norm (FusedBatchNormV3 and its gradient) and the ReLU / LeakyReLU gradients. tfjs-core
// differentiates batch norm through tf.moments with ~15 full-size elementwise kernels, and tfjs-node's Step
// (the ReLU gradient's mask) is six kernels with two full-size fills; on the ResNet step these took about half
// of the time. Values agree with the cpu backend's (test/unit/tf-kernels-parity-native*.test.ts).
//
// On a CPU build running Eigen's kernels, batch norm and the conv input gradient call oneDNN's instead, by their
// `_MklNative*` names with the kernel label TensorFlow's own eager oneDNN rewrite sets. Measured at the ResNet's
// shapes: batch-norm gradient 2–2.4× faster (forward even), input gradient of 3×3/2 convs 2–3× faster; repeated
// runs give bit-identical results, which TensorFlow's everywhere-oneDNN mode did not (see backend.ts).
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, LEAKY_RELU_GRAD, RELU_GRAD } from './names.js';
import { type KernelArgs, type TensorInfo, putKernel } from './kernel-scope.js';

interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The slice of tfjs-node's NodeJSKernelBackend that runs a TensorFlow op by name. */
interface NativeBackend {
  binding: Record<string, number>;
  executeSingleOutput(op: string, attrs: OpAttr[], inputs: TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(op: string, attrs: OpAttr[], inputs: TensorInfo[], outputs: number): tf.Tensor[];
}

function floatType(b: NativeBackend, name: string): OpAttr {
  return { name, type: b.binding.TF_ATTR_TYPE!, value: b.binding.TF_FLOAT };
}

/** A TensorFlow op by name, or its oneDNN kernel: `_MklNative<op>` with the label that selects it. */
interface NativeOp {
  name: string;
  label: OpAttr[];
}

function nativeOp(b: NativeBackend, op: string, oneDnn: boolean): NativeOp {
  return oneDnn
    ? { name: `_MklNative${op}`, label: [{ name: '_kernel', type: b.binding.TF_ATTR_STRING!, value: 'MklNameChangeOp' }] }
    : { name: op, label: [] };
}

function bnAttrs(b: NativeBackend, epsilon: number): OpAttr[] {
  return [
    floatType(b, 'T'),
    floatType(b, 'U'),
    { name: 'epsilon', type: b.binding.TF_ATTR_FLOAT!, value: epsilon },
    { name: 'data_format', type: b.binding.TF_ATTR_STRING!, value: 'NHWC' },
    { name: 'is_training', type: b.binding.TF_ATTR_BOOL!, value: true },
  ];
}

/** FusedBatchNorm wants NHWC: a [N, C] input is seen as [N, 1, 1, C]. */
function asNhwc(x: TensorInfo): { x4: tf.Tensor; owned: boolean } {
  if (x.shape.length === 4) return { x4: x as tf.Tensor, owned: false };
  const c = x.shape[x.shape.length - 1]!;
  return { x4: tf.reshape(x as tf.Tensor, [-1, 1, 1, c]), owned: true };
}

function batchNormTraining(args: KernelArgs, oneDnn: boolean): TensorInfo[] {
  const b = args.backend as NativeBackend;
  const op = nativeOp(b, 'FusedBatchNormV3', oneDnn);
  const { x, scale, offset } = args.inputs as Record<string, TensorInfo>;
  const epsilon = args.attrs!.epsilon as number;
  const { x4, owned } = asNhwc(x!);
  const empty = tf.tensor1d([]); // no population statistics in training mode
  const attrs = [...bnAttrs(b, epsilon), { name: 'exponential_avg_factor', type: b.binding.TF_ATTR_FLOAT!, value: 1 }, ...op.label];
  // Outputs: y, batch mean, batch variance (Bessel-corrected), and three reserve spaces for the gradient, whose
  // meaning differs between the Eigen, oneDNN and cuDNN kernels: they go back to the same kind's gradient untouched.
  const [y4, mean, corrected, ...reserve] = b.executeMultipleOutputs(op.name, attrs, [x4, scale!, offset!, empty, empty], 6);
  empty.dispose();
  if (owned) x4.dispose();
  const y = owned ? tf.reshape(y4!, x!.shape) : y4!;
  if (owned) y4!.dispose();
  // tf.moments' (biased) variance, which tfjs-layers feeds its moving average: corrected · (n - 1) / n.
  const n = tf.util.sizeFromShape(x!.shape) / x!.shape[x!.shape.length - 1]!;
  const variance = tf.mul(corrected!, (n - 1) / n);
  corrected!.dispose();
  return [y, mean!, variance, ...reserve];
}

function batchNormTrainingGrad(args: KernelArgs, oneDnn: boolean): TensorInfo[] {
  const b = args.backend as NativeBackend;
  const op = nativeOp(b, 'FusedBatchNormGradV3', oneDnn);
  const { dy, x, scale, reserve0, reserve1, reserve2 } = args.inputs as Record<string, TensorInfo>;
  if (reserve0 === undefined || reserve1 === undefined || reserve2 === undefined) {
    throw new Error(`${BATCH_NORM_TRAINING_GRAD}: the forward pass left no reserve spaces (was it run on another backend?)`);
  }
  const { x4, owned } = asNhwc(x!);
  const dy4 = owned ? tf.reshape(dy as tf.Tensor, x4.shape) : (dy as tf.Tensor);
  const [dx4, dscale, doffset, r4, r5] = b.executeMultipleOutputs(
    op.name,
    [...bnAttrs(b, args.attrs!.epsilon as number), ...op.label],
    [dy4, x4, scale!, reserve0, reserve1, reserve2],
    5,
  );
  tf.dispose([r4!, r5!]);
  if (!owned) return [dx4!, dscale!, doffset!];
  const dx = tf.reshape(dx4!, x!.shape);
  tf.dispose([x4, dy4, dx4!]);
  return [dx, dscale!, doffset!];
}

function reluGrad(args: KernelArgs): TensorInfo {
  const b = args.backend as NativeBackend;
  const { dy, x } = args.inputs as Record<string, TensorInfo>;
  return b.executeSingleOutput('ReluGrad', [floatType(b, 'T')], [dy!, x!]);
}

function leakyReluGrad(args: KernelArgs): TensorInfo {
  const b = args.backend as NativeBackend;
  const { dy, x } = args.inputs as Record<string, TensorInfo>;
  const alpha = { name: 'alpha', type: b.binding.TF_ATTR_FLOAT!, value: args.attrs!.alpha as number };
  return b.executeSingleOutput('LeakyReluGrad', [floatType(b, 'T'), alpha], [dy!, x!]);
}

/** Conv2DBackpropInput (NHWC, no dilation) on oneDNN's kernel, for the cases the conv rewrite leaves to TensorFlow. */
export function oneDnnConv2dBackpropInput(args: KernelArgs): TensorInfo {
  const b = args.backend as NativeBackend;
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as { strides: number | [number, number]; pad: string; inputShape: number[] };
  const [sh, sw] = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : attrs.strides;
  const op = nativeOp(b, 'Conv2DBackpropInput', true);
  const inputSizes = tf.tensor1d(attrs.inputShape, 'int32');
  try {
    return b.executeSingleOutput(
      op.name,
      [
        floatType(b, 'T'),
        { name: 'strides', type: b.binding.TF_ATTR_INT!, value: [1, sh, sw, 1] },
        { name: 'padding', type: b.binding.TF_ATTR_STRING!, value: attrs.pad.toUpperCase() },
        { name: 'data_format', type: b.binding.TF_ATTR_STRING!, value: 'NHWC' },
        { name: 'dilations', type: b.binding.TF_ATTR_INT!, value: [1, 1, 1, 1] },
        { name: 'use_cudnn_on_gpu', type: b.binding.TF_ATTR_BOOL!, value: false },
        { name: 'explicit_paddings', type: b.binding.TF_ATTR_INT!, value: [] },
        ...op.label,
      ],
      [inputSizes, filter!, dy!],
    );
  } finally {
    inputSizes.dispose();
  }
}

/** Whether this TensorFlow has oneDNN's kernels (the CPU wheels do): runs one tiny oneDNN batch norm on `backend`. */
export function hasOneDnnKernels(backend: unknown): boolean {
  const inputs = { x: tf.ones([1, 1, 2, 1]), scale: tf.ones([1]), offset: tf.zeros([1]) };
  try {
    tf.dispose(batchNormTraining({ inputs, backend, attrs: { epsilon: 1e-3 } }, true) as tf.Tensor[]);
    return true;
  } catch {
    return false;
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

export const NATIVE_KERNELS = [BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, RELU_GRAD, LEAKY_RELU_GRAD] as const;

/** Registers the kernels above for `backendName` (a tfjs-node backend), batch norm on oneDNN's kernels or not. */
export function registerNativeKernels(backendName: string, options: { oneDnn: boolean }): void {
  const fns: Record<(typeof NATIVE_KERNELS)[number], (a: KernelArgs) => TensorInfo | TensorInfo[]> = {
    [BATCH_NORM_TRAINING]: (a) => batchNormTraining(a, options.oneDnn),
    [BATCH_NORM_TRAINING_GRAD]: (a) => batchNormTrainingGrad(a, options.oneDnn),
    [RELU_GRAD]: reluGrad,
    [LEAKY_RELU_GRAD]: leakyReluGrad,
  };
  for (const name of NATIVE_KERNELS) putKernel(name, backendName, fns[name]);
}
