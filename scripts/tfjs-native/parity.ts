// Parity cases for the native `tensorflow` backend: each case runs the same computation (values and gradients) on the
// `tensorflow` backend and on tfjs's pure-JS `cpu` backend, the reference every kernel in this project is held to.
// Used by scripts/tfjs-native/check.ts (install-time smoke check) and test/unit/native-backend.test.ts.
//
// Inputs come from a seeded LCG rather than tf.random*, so both backends see bit-identical data.
import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;

export interface ParityResult {
  name: string;
  /** max |native - cpu| over every output, divided by max(1, max |cpu|): a relative error. */
  relErr: number;
  tolerance: number;
  ok: boolean;
}

/** Relative tolerance: float32 sums of a few hundred products differ in the ~1e-6 range; a wrong kernel is off by O(1). */
export const DEFAULT_TOLERANCE = 1e-4;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function values(n: number, seed: number, scale = 1): Float32Array {
  const next = seeded(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() * 2 * scale;
  return out;
}

interface Case {
  name: string;
  /** Returns every output whose values are compared (forward results and gradients). */
  run: (tf: Tf) => tfjs.Tensor[];
}

const CASES: Case[] = [
  {
    name: 'conv2d stride 2 same + bias + relu, grads wrt input and filter',
    run: (tf) => {
      const x = tf.tensor4d(values(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]);
      const w = tf.tensor4d(values(3 * 3 * 3 * 5, 2, 0.5), [3, 3, 3, 5]);
      const b = tf.tensor1d(values(5, 3));
      const f = (xi: tfjs.Tensor, wi: tfjs.Tensor) =>
        tf.relu(tf.add(tf.conv2d(xi as tfjs.Tensor4D, wi as tfjs.Tensor4D, 2, 'same'), b)).square().sum();
      const [gx, gw] = tf.grads(f)([x, w]);
      return [f(x, w), gx!, gw!];
    },
  },
  {
    name: 'matMul with transposes, grads wrt both operands',
    run: (tf) => {
      const a = tf.tensor2d(values(7 * 13, 4), [13, 7]);
      const c = tf.tensor2d(values(11 * 13, 5), [11, 13]);
      const f = (ai: tfjs.Tensor, ci: tfjs.Tensor) =>
        tf.tanh(tf.matMul(ai as tfjs.Tensor2D, ci as tfjs.Tensor2D, true, true)).sum();
      const [ga, gc] = tf.grads(f)([a, c]);
      return [tf.matMul(a, c, true, true), ga!, gc!];
    },
  },
  {
    name: 'conv2dTranspose 4x4 stride 2 (DCGAN generator layer), grads',
    run: (tf) => {
      const x = tf.tensor4d(values(2 * 4 * 4 * 6, 6), [2, 4, 4, 6]);
      // conv2dTranspose filter is [h, w, outChannels, inChannels].
      const w = tf.tensor4d(values(4 * 4 * 3 * 6, 7, 0.5), [4, 4, 3, 6]);
      const f = (xi: tfjs.Tensor, wi: tfjs.Tensor) =>
        tf.conv2dTranspose(xi as tfjs.Tensor4D, wi as tfjs.Tensor4D, [2, 8, 8, 3], 2, 'same').square().mean();
      const [gx, gw] = tf.grads(f)([x, w]);
      return [tf.conv2dTranspose(x, w, [2, 8, 8, 3], 2, 'same'), gx!, gw!];
    },
  },
  {
    name: 'batch-norm (moments) + leakyRelu + sigmoid cross-entropy (DCGAN discriminator head), grads',
    run: (tf) => {
      const x = tf.tensor4d(values(4 * 6 * 6 * 8, 8), [4, 6, 6, 8]);
      const gamma = tf.tensor1d(values(8, 9, 0.5).map((v) => v + 1));
      const beta = tf.tensor1d(values(8, 10, 0.1));
      const w = tf.tensor2d(values(6 * 6 * 8, 11, 0.1), [6 * 6 * 8, 1]);
      const labels = tf.tensor2d([1, 0, 1, 0], [4, 1]);
      const f = (xi: tfjs.Tensor, gi: tfjs.Tensor, bi: tfjs.Tensor) => {
        const { mean, variance } = tf.moments(xi, [0, 1, 2]);
        const h = tf.leakyRelu(tf.batchNorm(xi, mean, variance, bi as tfjs.Tensor1D, gi as tfjs.Tensor1D, 1e-5), 0.2);
        const logits = tf.matMul(tf.reshape(h, [4, 6 * 6 * 8]), w);
        return tf.losses.sigmoidCrossEntropy(labels, logits) as tfjs.Scalar;
      };
      const [gx, gg, gb] = tf.grads(f)([x, gamma, beta]);
      return [f(x, gamma, beta), gx!, gg!, gb!];
    },
  },
  {
    name: 'maxPool + avgPool + softmax cross-entropy, grads',
    run: (tf) => {
      const x = tf.tensor4d(values(2 * 8 * 8 * 4, 12), [2, 8, 8, 4]);
      const onehot = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 4);
      const f = (xi: tfjs.Tensor) => {
        const p = tf.add(tf.maxPool(xi as tfjs.Tensor4D, 2, 2, 'valid'), tf.avgPool(xi as tfjs.Tensor4D, 2, 2, 'valid'));
        return tf.losses.softmaxCrossEntropy(onehot, tf.mean(p, [1, 2])) as tfjs.Scalar;
      };
      const [gx] = tf.grads(f)([x]);
      return [f(x), gx!];
    },
  },
  {
    name: 'Adam: three optimizer steps on a dense layer',
    run: (tf) => {
      const x = tf.tensor2d(values(8 * 5, 13), [8, 5]);
      const y = tf.tensor2d(values(8 * 2, 14), [8, 2]);
      const w = tf.variable(tf.tensor2d(values(5 * 2, 15), [5, 2]));
      const opt = tf.train.adam(0.01, 0.5, 0.999);
      for (let i = 0; i < 3; i++) opt.minimize(() => tf.losses.meanSquaredError(y, tf.matMul(x, w)) as tfjs.Scalar);
      const out = tf.clone(w);
      opt.dispose();
      w.dispose();
      return [out];
    },
  },
];

async function runOn(tf: Tf, backend: string, c: Case): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  const outs = tf.tidy(() => c.run(tf));
  const data = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
  outs.forEach((t) => t.dispose());
  return data;
}

export const PARITY_CASES: readonly string[] = CASES.map((c) => c.name);

/**
 * Runs the cases (all, or the one named by `only`) on `tensorflow` and `cpu`, leaving `tensorflow` as the active
 * backend. Every tensor a case creates is disposed.
 */
export async function runParity(tf: Tf, tolerance = DEFAULT_TOLERANCE, only?: string): Promise<ParityResult[]> {
  const results: ParityResult[] = [];
  for (const c of CASES.filter((k) => only === undefined || k.name === only)) {
    const native = await runOn(tf, 'tensorflow', c);
    const ref = await runOn(tf, 'cpu', c);
    let maxDiff = 0;
    let maxRef = 1;
    ref.forEach((r, i) => {
      const n = native[i]!;
      if (n.length !== r.length) throw new Error(`${c.name}: output ${i} has ${n.length} values on tensorflow, ${r.length} on cpu`);
      for (let j = 0; j < r.length; j++) {
        maxRef = Math.max(maxRef, Math.abs(r[j]!));
        // A NaN on either side must fail (Math.max would otherwise propagate or drop it).
        const d = Math.abs(n[j]! - r[j]!);
        maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
      }
    });
    const relErr = maxDiff / maxRef;
    results.push({ name: c.name, relErr, tolerance, ok: relErr <= tolerance });
  }
  await tf.setBackend('tensorflow');
  return results;
}
