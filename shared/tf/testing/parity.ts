// Kernel parity cases: each computes values and/or gradients with plain tf ops; the test runs it on `cpu` and on
// the backend under test and compares. Shared by the 1-thread and the multi-thread parity suites.
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, LEAKY_RELU_GRAD, RELU_GRAD } from '../kernels/names.js';
import { batchNormTraining } from '../ops/batch-norm-training.js';

export interface ParityCase {
  name: string;
  /** Kernels this case exercises on the backend under test. */
  kernels: string[];
  run: () => tf.Tensor[];
  /** What `cpu` computes instead of `run`, where the cpu kernel itself is wrong for these attributes. */
  reference?: () => tf.Tensor[];
  /** Why the native `tensorflow` backend (tfjs-node) cannot run this case at all, where it cannot. */
  nativeUnsupported?: string;
  /** Why TensorFlow with oneDNN's kernels for every op (TF_ENABLE_ONEDNN_OPTS=1) cannot pass this case. */
  oneDnnUnsupported?: string;
}

/** tfjs-node's conv kernels accept only 'same' and 'valid' padding: other cases are marked as native-unsupported. */
const nativePadding = (pad: unknown): Pick<ParityCase, 'nativeUnsupported'> =>
  pad === 'same' || pad === 'valid' ? {} : { nativeUnsupported: "tfjs-node's conv kernels accept only 'same' and 'valid' padding" };

/** |a - b| ≤ TOLERANCE · max(1, max|a|), per output: fp32 with a different summation order, nothing more. */
export const TOLERANCE = 1e-4;

let seed = 1;
const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed++);

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Values and gradients (x and filter) of conv2d under a random upstream gradient. */
function convCase(n: number, h: number, w: number, ci: number, co: number, kh: number, kw: number,
  strides: [number, number], pad: Pad, dil: number, oneDnnUnsupported?: string): ParityCase {
  return {
    ...(oneDnnUnsupported === undefined ? {} : { oneDnnUnsupported }),
    name: `conv2d x[${n},${h},${w},${ci}] f[${kh},${kw},${ci},${co}] s${strides} pad=${JSON.stringify(pad)} d${dil}`,
    kernels: ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'],
    ...nativePadding(pad),
    run: () => {
      seed = 7;
      const x = rnd([n, h, w, ci]) as tf.Tensor4D;
      const f = rnd([kh, kw, ci, co]) as tf.Tensor4D;
      const fwd = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, strides, pad as 'same', 'NHWC', dil);
      const y = fwd(x, f);
      const up = rnd(y.shape);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fwd(a as tf.Tensor4D, b as tf.Tensor4D), up)))([x, f]);
      return [y, dx!, df!];
    },
  };
}

/** conv2dTranspose forward (= Conv2DBackpropInput) and its gradients. */
function convTCase(n: number, h: number, ci: number, co: number, k: number, s: number, pad: 'same' | 'valid' | number,
  outH: number): ParityCase {
  return {
    name: `conv2dTranspose dy[${n},${h},${h},${co}] f[${k},${k},${ci},${co}] s${s} pad=${pad} out${outH}`,
    kernels: ['Conv2DBackpropInput', 'Conv2D', 'Conv2DBackpropFilter'],
    ...nativePadding(pad),
    run: () => {
      seed = 11;
      const x = rnd([n, h, h, co]) as tf.Tensor4D;
      const f = rnd([k, k, ci, co]) as tf.Tensor4D;
      const fwd = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2dTranspose(a, b, [n, outH, outH, ci], s, pad);
      const y = fwd(x, f);
      const up = rnd(y.shape);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fwd(a as tf.Tensor4D, b as tf.Tensor4D), up)))([x, f]);
      return [y, dx!, df!];
    },
  };
}

function depthwiseCase(n: number, h: number, c: number, mult: number, k: number, s: number, pad: 'same' | 'valid',
  dil: number): ParityCase {
  return {
    name: `depthwise x[${n},${h},${h},${c}] f[${k},${k},${c},${mult}] s${s} pad=${pad} d${dil}`,
    kernels: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'],
    run: () => {
      seed = 13;
      const x = rnd([n, h, h, c]) as tf.Tensor4D;
      const f = rnd([k, k, c, mult]) as tf.Tensor4D;
      const fwd = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.depthwiseConv2d(a, b, s, pad, 'NHWC', dil);
      const y = fwd(x, f);
      const up = rnd(y.shape);
      const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fwd(a as tf.Tensor4D, b as tf.Tensor4D), up)))([x, f]);
      return [y, dx!, df!];
    },
  };
}

/**
 * A gradient kernel called directly, with attributes tfjs-core's gradients never pass (dilations: tfjs-core
 * refuses gradients of dilated convs, but the kernels accept them and so must be right).
 */
function directCase(kernel: string, name: string, inputs: () => Record<string, tf.Tensor>, attrs: Record<string, unknown>,
  reference?: (inputs: Record<string, tf.Tensor>) => tf.Tensor[], nativeUnsupported?: string): ParityCase {
  const call = (): tf.Tensor[] => {
    seed = 31;
    const out = tf.engine().runKernel(kernel, inputs() as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap);
    return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
  };
  const c: ParityCase = { name: `${kernel} direct: ${name}`, kernels: [kernel], run: call };
  if (nativeUnsupported !== undefined) c.nativeUnsupported = nativeUnsupported;
  if (reference !== undefined) {
    c.reference = () => {
      seed = 31;
      return reference(inputs());
    };
  }
  return c;
}

/** A k×k filter with d-1 zeros between taps: a dilated conv is an undilated conv with this filter. */
function dilateFilter(f: tf.Tensor, d: number): tf.Tensor {
  const [k, , c, m] = f.shape as [number, number, number, number];
  const spread = tf.pad(tf.reshape(f, [k, 1, k, 1, c, m]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]);
  const size = (k - 1) * d + 1;
  return tf.slice(tf.reshape(spread, [k * d, k * d, c, m]), [0, 0, 0, 0], [size, size, c, m]);
}

export function parityCases(): ParityCase[] {
  const cases: ParityCase[] = [];
  // conv2d: kernel sizes 1..5 (and non-square), strides 1/2/3 and unequal, same/valid/explicit/numeric padding,
  // dilation 2, channel counts 1..17, odd and non-square images.
  const convs: [number, number, number, number, number, number, number, [number, number], Pad, number, string?][] = [
    [2, 8, 8, 3, 4, 3, 3, [1, 1], 'same', 1],
    [2, 9, 7, 2, 5, 3, 3, [2, 2], 'same', 1],
    [1, 8, 8, 1, 8, 4, 4, [2, 2], 'same', 1],
    [3, 10, 10, 3, 6, 4, 4, [2, 2], 1, 1],
    [2, 8, 8, 3, 2, 4, 4, [2, 2], 'valid', 1],
    [2, 7, 9, 4, 3, 1, 1, [2, 2], 'valid', 1],
    [1, 11, 11, 2, 3, 3, 3, [3, 3], 'same', 1],
    [2, 9, 9, 3, 4, 5, 5, [2, 2], 'same', 1],
    [2, 8, 6, 3, 3, 3, 2, [1, 1], 'valid', 1],
    [2, 9, 8, 2, 3, 3, 3, [2, 1], 'same', 1],
    [2, 9, 9, 3, 5, 3, 3, [2, 2], [[0, 0], [1, 2], [0, 1], [0, 0]], 1],
    [2, 6, 6, 17, 9, 3, 3, [1, 1], 'same', 1],
    [4, 16, 16, 8, 16, 4, 4, [2, 2], 1, 1],
    [2, 8, 8, 12, 10, 3, 3, [1, 1], 'same', 1],
    [2, 8, 8, 9, 16, 3, 3, [2, 2], 'same', 1],
    // ≥ 8 input channels and a filter that does not tile its stride: wasm's per-phase input gradient.
    [2, 9, 7, 8, 6, 3, 3, [2, 2], 'same', 1],
    [2, 10, 10, 8, 4, 3, 3, [2, 2], 'valid', 1],
    [2, 9, 9, 8, 5, 3, 3, [2, 2], [[0, 0], [1, 2], [0, 1], [0, 0]], 1],
    [2, 11, 11, 8, 4, 5, 5, [2, 2], 'same', 1],
    [1, 10, 10, 8, 3, 5, 5, [3, 3], 'same', 1],
    // Channels in multiples of 4 in and 8 out and at least 4096 positions: wasm's SIMD filter gradient (several
    // 8-channel tiles split over the threads, many blocks, unequal strides, explicit and cropping paddings).
    [2, 48, 48, 4, 8, 3, 3, [1, 1], 'same', 1],
    [2, 96, 90, 8, 16, 3, 3, [2, 2], 'same', 1],
    [2, 100, 100, 4, 8, 1, 1, [2, 2], 'valid', 1,
      // Measured: relative error 0.4-1.1 in the filter gradient at 10×10 and 100×100, 'same' too; exact with 8 or 3
      // channels in, or an odd size (9×9).
      "TensorFlow's oneDNN Conv2DBackpropFilter is wrong for 4 channels in, 1×1/2 on an even size → 8 channels"],
    [2, 48, 48, 8, 8, 5, 5, [1, 1], [[0, 0], [2, 1], [1, 2], [0, 0]], 1],
    [3, 46, 90, 12, 24, 3, 2, [2, 1], 'valid', 1],
    [2, 48, 48, 8, 32, 3, 3, [1, 1], 'same', 1],
  ];
  for (const c of convs) cases.push(convCase(...c));
  // transposed convs as the DCGAN generator uses them (4/2/1 up-sampling; 4/1/valid from 1×1), and others.
  const convTs: [number, number, number, number, number, number, 'same' | 'valid' | number, number][] = [
    [2, 1, 8, 6, 4, 1, 'valid', 4],
    [2, 4, 4, 8, 4, 2, 1, 8],
    [3, 5, 3, 2, 4, 2, 'same', 10],
    [2, 4, 2, 3, 3, 2, 'same', 8],
    [2, 5, 3, 4, 3, 1, 'same', 5],
    [1, 3, 2, 2, 5, 3, 'same', 9],
    [2, 4, 3, 5, 2, 2, 'valid', 8],
    [2, 4, 8, 16, 4, 2, 'same', 8],
    [2, 3, 9, 12, 3, 1, 'same', 3],
  ];
  for (const c of convTs) cases.push(convTCase(...c));
  const dws: [number, number, number, number, number, number, 'same' | 'valid', number][] = [
    [2, 7, 3, 1, 3, 1, 'same', 1],
    [2, 8, 2, 2, 3, 2, 'same', 1],
    [1, 9, 4, 1, 2, 2, 'valid', 1],
    [2, 9, 3, 2, 3, 1, 'valid', 1],
  ];
  for (const c of dws) cases.push(depthwiseCase(...c));
  // Dilated convs: forward against cpu, and the gradient kernels called directly with dilations.
  cases.push({
    name: 'conv2d dilation 2 forward (same, valid)',
    kernels: ['Conv2D'],
    run: () => {
      seed = 37;
      const x = rnd([2, 10, 10, 3]) as tf.Tensor4D;
      const f = rnd([3, 3, 3, 4]) as tf.Tensor4D;
      return [tf.conv2d(x, f, 1, 'same', 'NHWC', 2), tf.conv2d(x, f, 1, 'valid', 'NHWC', 2)];
    },
  });
  const NO_DILATED_DEPTHWISE = "TensorFlow's CPU depthwise gradient kernels have no dilations (tfjs-core never asks)";
  // tfjs-backend-cpu's depthwise gradient kernels ignore dilations, so for d > 1 the cpu reference is the
  // undilated kernel with a zero-inserted filter (and every d-th tap of the dilated filter's gradient).
  for (const [s, d, pad] of [[1, 1, 'same'], [1, 2, 'same'], [1, 2, 'valid'], [2, 1, 'same'], [1, 3, 'same']] as const) {
    const h = 9;
    const o = pad === 'same' ? Math.ceil(h / s) : Math.ceil((h - (3 - 1) * d) / s);
    const ksz = (3 - 1) * d + 1;
    cases.push(directCase('DepthwiseConv2dNativeBackpropInput', `dy[2,${o},${o},6] f[3,3,3,2] s${s} d${d} ${pad}`,
      () => ({ dy: rnd([2, o, o, 6]), filter: rnd([3, 3, 3, 2]) }),
      { strides: [s, s], dilations: [d, d], pad, inputShape: [2, h, h, 3] },
      d === 1 ? undefined : (i) => [tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput',
        { dy: i.dy!, filter: dilateFilter(i.filter!, d) }, { strides: [s, s], dilations: [1, 1], pad, inputShape: [2, h, h, 3] }) as tf.Tensor],
      d === 1 ? undefined : NO_DILATED_DEPTHWISE));
    cases.push(directCase('DepthwiseConv2dNativeBackpropFilter', `x[2,${h},${h},3] dy[2,${o},${o},6] s${s} d${d} ${pad}`,
      () => ({ x: rnd([2, h, h, 3]), dy: rnd([2, o, o, 6]) }),
      { strides: [s, s], dilations: [d, d], pad, filterShape: [3, 3, 3, 2] },
      d === 1 ? undefined : (i) => {
        const full = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: i.x!, dy: i.dy! },
          { strides: [s, s], dilations: [1, 1], pad, filterShape: [ksz, ksz, 3, 2] }) as tf.Tensor;
        return [tf.stridedSlice(full, [0, 0, 0, 0], [ksz, ksz, 3, 2], [d, d, 1, 1])];
      }, d === 1 ? undefined : NO_DILATED_DEPTHWISE));
  }
  cases.push(directCase('Conv2DBackpropFilter', 'x[2,9,9,3] dy[2,4,4,5] s2 valid f3', () => ({ x: rnd([2, 9, 9, 3]), dy: rnd([2, 4, 4, 5]) }),
    { strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 3, 5] }));
  cases.push(directCase('Conv2DBackpropInput', 'dy[2,5,5,4] f[4,4,3,4] s2 same', () => ({ dy: rnd([2, 5, 5, 4]), filter: rnd([4, 4, 3, 4]) }),
    { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', inputShape: [2, 10, 10, 3] }));
  cases.push({
    name: 'unsortedSegmentSum float [6,3] ids with -1 and 7 (dropped), int32 [4,3]',
    kernels: ['UnsortedSegmentSum'],
    nativeUnsupported: 'TensorFlow rejects out-of-range segment ids instead of dropping them',
    run: () => {
      seed = 17;
      const a = tf.unsortedSegmentSum(rnd([6, 3]), tf.tensor1d([0, 2, 2, -1, 4, 7], 'int32'), 5);
      const b = tf.unsortedSegmentSum(tf.range(0, 12, 1, 'int32').reshape([4, 3]), tf.tensor1d([1, 0, 1, 2], 'int32'), 3);
      return [a, tf.cast(b, 'float32')];
    },
  });
  cases.push({
    name: 'gather gradient (embedding lookup) → UnsortedSegmentSum',
    kernels: ['GatherV2', 'UnsortedSegmentSum'],
    run: () => {
      seed = 19;
      const table = rnd([7, 4]);
      const idx = tf.tensor1d([0, 3, 3, 6, 0, 1], 'int32');
      const up = rnd([6, 4]);
      return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), up)))(table)];
    },
  });
  // Sum / Mean: leading axes (the average-pooling path) and every other kind (the backend's own kernel), keepDims both
  // ways, and several shapes of the SAME tensor one after another (the operator-cache trap).
  cases.push({
    name: 'sum/mean over leading, trailing, middle and all axes; keepDims; reshaped views of one tensor',
    kernels: ['Sum', 'Mean'],
    run: () => {
      seed = 23;
      const x = rnd([3, 4, 5, 6]);
      const out: tf.Tensor[] = [];
      for (const axes of [[0], [0, 1], [0, 1, 2], [1, 2], [3], [2, 3], [1], [0, 2], [0, 1, 2, 3]]) {
        for (const keep of [false, true]) out.push(tf.sum(x, axes, keep), tf.mean(x, axes, keep));
      }
      out.push(tf.sum(tf.reshape(x, [12, 30]), 0), tf.sum(tf.reshape(x, [60, 6]), 0), tf.mean(tf.reshape(x, [360, 1]), 0));
      out.push(tf.sum(rnd([1, 5]), 0), tf.sum(rnd([2, 1, 3]), [0, 1]));
      // Many rows, the same tensor under several shapes and row counts, then a new tensor.
      const big = rnd([64, 40, 8]);
      for (const keep of [false, true]) out.push(tf.sum(big, [0, 1], keep), tf.mean(big, [0, 1], keep));
      out.push(tf.sum(tf.reshape(big, [2560, 8]), 0), tf.mean(tf.reshape(big, [1280, 16]), 0), tf.sum(tf.reshape(big, [20480, 1]), 0));
      out.push(tf.sum(rnd([64, 40, 8]), [0, 1]), tf.mean(rnd([4096, 3]), 0));
      // A batch-norm layer's statistics at the models' sizes: 65536 rows summed in one pass.
      out.push(tf.mean(rnd([16, 64, 64, 8]), [0, 1, 2]), tf.sum(tf.add(rnd([65536, 2]), 3), 0));
      return out;
    },
  });
  cases.push({
    name: 'slice: contiguous runs, strided blocks, whole trailing axes, size -1, ranks 1 to 6, int32',
    kernels: ['Slice'],
    run: () => {
      seed = 47;
      const x4 = rnd([3, 5, 6, 4]);
      const x6 = rnd([2, 3, 2, 4, 3, 5]);
      return [
        tf.slice(rnd([10]), [3], [5]),
        tf.slice(x4, [1, 0, 0, 0], [1, 5, 6, 4]),
        tf.slice(x4, [0, 1, 2, 1], [3, 3, 3, 2]),
        tf.slice(x4, [1, 2, 0, 0], [2, -1, -1, -1]),
        tf.slice(x4, [2, 4, 5, 3], [1, 1, 1, 1]),
        tf.slice(x6, [1, 0, 1, 1, 0, 2], [1, 3, 1, 2, 3, 3]),
        tf.slice(x6, [0, 1, 0, 0, 0, 0], [2, 2, 2, 4, 3, 5]),
        tf.cast(tf.slice(tf.range(0, 60, 1, 'int32').reshape([3, 4, 5]), [1, 1, 2], [2, 2, 3]), 'float32'),
      ];
    },
  });
  cases.push({
    name: 'identity: a clone outlives its source, and a variable assigned a clone keeps its value',
    kernels: ['Identity'],
    run: () => {
      seed = 53;
      const a = rnd([4, 6]);
      const b = tf.clone(a);
      const c = tf.clone(tf.cast(tf.range(0, 6, 1, 'int32'), 'int32'));
      const v = tf.variable(tf.clone(b));
      a.dispose();
      v.assign(tf.mul(v, 2));
      const out = [b, tf.cast(c, 'float32'), tf.clone(v)];
      v.dispose();
      return out;
    },
  });
  cases.push({
    name: 'batch norm in training mode (moments + batchNorm): values and gradients of x, scale, offset',
    kernels: ['FusedBatchNorm', 'Mean', 'Sum'],
    run: () => {
      seed = 29;
      const x = rnd([4, 5, 5, 3]);
      const g = rnd([3]);
      const b = rnd([3]);
      const up = rnd([4, 5, 5, 3]);
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Tensor => {
        const m = tf.moments(xx, [0, 1, 2]);
        return tf.batchNorm(xx, m.mean, m.variance, bb, gg, 1e-3);
      };
      const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(f(xx, gg, bb), up)))([x, g, b]);
      return [f(x, g, b), ...grads];
    },
  });
  // The project's batch-norm training op against what tfjs-layers computes (tf.moments + tf.batchNorm, on cpu).
  for (const shape of [[4, 5, 5, 3], [3, 4, 6, 9], [16, 6]]) {
    const c = shape[shape.length - 1]!;
    const inputs = () => {
      seed = 41;
      return { x: tf.add(tf.mul(rnd(shape), 2), 0.5), g: rnd([c]), b: rnd([c]), up: rnd(shape) };
    };
    const axes = shape.slice(0, -1).map((_, i) => i);
    const both = (norm: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor }) => {
      const { x, g, b, up } = inputs();
      const { y, mean, variance } = norm(x, g, b);
      const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(norm(xx, gg, bb).y, up)))([x, g, b]);
      return [y, mean, variance, ...grads];
    };
    cases.push({
      name: `batchNormTraining x[${shape}]: y, mean, variance and gradients of x, scale, offset vs moments + batchNorm`,
      kernels: [BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD],
      run: () => both((x, g, b) => batchNormTraining(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3)),
      reference: () => both((x, g, b) => {
        const { mean, variance } = tf.moments(x, axes);
        return { y: tf.batchNorm(x, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3), mean, variance };
      }),
    });
  }
  cases.push({
    name: 'relu and leakyRelu gradients, zeros included',
    kernels: ['Relu', 'LeakyRelu', RELU_GRAD, LEAKY_RELU_GRAD],
    run: () => {
      seed = 43;
      const x = tf.concat([rnd([2, 4, 4, 3]).flatten(), tf.zeros([5])]);
      const up = rnd(x.shape);
      const relu = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), up)))(x);
      const leaky = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, 0.2), up)))(x);
      return [relu, leaky, tf.relu(x), tf.leakyRelu(x, 0.2)];
    },
  });
  return cases;
}

/** Runs a case on `backend` and returns its outputs as arrays (all tensors it made are freed). */
export async function runOn(backend: string, c: ParityCase): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  const outs = tf.tidy(backend === 'cpu' && c.reference !== undefined ? c.reference : c.run);
  const arrays = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(outs);
  return arrays;
}

/** Largest error over outputs, relative as TOLERANCE states; also checks shapes agree. */
export function relativeError(ref: Float32Array[], got: Float32Array[]): number {
  if (ref.length !== got.length) throw new Error(`output count ${got.length} vs ${ref.length}`);
  let worst = 0;
  ref.forEach((a, i) => {
    const b = got[i]!;
    if (a.length !== b.length) throw new Error(`output ${i}: ${b.length} values vs ${a.length}`);
    let diff = 0;
    let scale = 1;
    for (let k = 0; k < a.length; k++) {
      diff = Math.max(diff, Math.abs(a[k]! - b[k]!));
      scale = Math.max(scale, Math.abs(a[k]!));
      if (Number.isNaN(b[k]!) !== Number.isNaN(a[k]!)) diff = Infinity;
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}
