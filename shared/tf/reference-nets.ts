// The two reference networks of the compute benchmark (../shared/peer/README.md), built with tf.layers the way
// the project's models are, so `npm run bench -- compute` times what training really runs. Sizes are
// parameters so tests can train the same code paths at 16–32 px.
//  - DCGAN: G = convT(nz→8·ngf, 4, 1, valid) + [convT(4, 2, same) BN ReLU]… + convT(→1) tanh;
//           D = conv(4, 2, same) LeakyReLU(0.2) + [conv BN LeakyReLU]… + conv(→1, 4, 1, valid); no biases,
//           Adam(2e-4, β1 0.5); one iteration = D step on real + fake, then G step.
//  - ResNet-ish: conv(3→32, 3, 2) BN ReLU, four basic blocks (32, 64/2, 128/2, 256/2), global average pool,
//           dense → classes; Adam(1e-3); softmax cross-entropy.
// Batch norm: epsilon 1e-5 and momentum 0.9 (PyTorch's defaults, in Keras terms).
import * as tf from '@tensorflow/tfjs';
import { SeededInitializers } from './random.js';
import { batchNormalization } from './layers/batch-normalization.js';
import { conv2d } from './layers/conv2d.js';
import { multiTensorAdam } from './optimizers/adam.js';

const BN = { epsilon: 1e-5, momentum: 0.9 };

export interface DcganConfig {
  /** 16, 32, 64, …: a power of two ≥ 8. */
  imageSize: number;
  nz: number;
  ngf: number;
  ndf: number;
  channels: number;
  seed: number;
}

export const DCGAN_64: DcganConfig = { imageSize: 64, nz: 100, ngf: 64, ndf: 64, channels: 1, seed: 0 };

export interface Dcgan {
  config: DcganConfig;
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  optG: tf.Optimizer;
  optD: tf.Optimizer;
}

function upsamplings(imageSize: number): number {
  const n = Math.log2(imageSize / 4);
  if (!Number.isInteger(n) || n < 1) throw new Error(`DCGAN imageSize must be a power of two ≥ 8, got ${imageSize}`);
  return n;
}

export function buildDcgan(config: DcganConfig): Dcgan {
  const init = new SeededInitializers(config.seed);
  const ups = upsamplings(config.imageSize);
  const g = tf.sequential({ name: 'generator' });
  let ch = config.ngf * 2 ** (ups - 1);
  g.add(tf.layers.conv2dTranspose({ inputShape: [1, 1, config.nz], filters: ch, kernelSize: 4, strides: 1, padding: 'valid', useBias: false, kernelInitializer: init.normal(0.02) }));
  g.add(batchNormalization(BN));
  g.add(tf.layers.reLU());
  for (let i = 1; i < ups; i++) {
    ch /= 2;
    g.add(tf.layers.conv2dTranspose({ filters: ch, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(0.02) }));
    g.add(batchNormalization(BN));
    g.add(tf.layers.reLU());
  }
  g.add(tf.layers.conv2dTranspose({ filters: config.channels, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(0.02), activation: 'tanh' }));

  const d = tf.sequential({ name: 'discriminator' });
  let dch = config.ndf;
  d.add(conv2d({ inputShape: [config.imageSize, config.imageSize, config.channels], filters: dch, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(0.02) }));
  d.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  for (let i = 1; i < ups; i++) {
    dch *= 2;
    d.add(conv2d({ filters: dch, kernelSize: 4, strides: 2, padding: 'same', useBias: false, kernelInitializer: init.normal(0.02) }));
    d.add(batchNormalization(BN));
    d.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  }
  d.add(conv2d({ filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: false, kernelInitializer: init.normal(0.02) }));
  d.add(tf.layers.flatten());
  return { config, generator: g, discriminator: d, optG: multiTensorAdam(2e-4, 0.5, 0.999), optD: multiTensorAdam(2e-4, 0.5, 0.999) };
}

function trainable(m: tf.LayersModel): tf.Variable[] {
  return m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
}

function bce(logits: tf.Tensor, target: number): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(tf.fill(logits.shape, target), logits) as tf.Scalar;
}

/** One DCGAN iteration (D on real + fake, then G); `noiseSeed` makes the noise reproducible. Returns losses. */
export function dcganIteration(gan: Dcgan, real: tf.Tensor4D, noiseSeed: number): { lossD: number; lossG: number } {
  const b = real.shape[0];
  const { nz } = gan.config;
  const [lossD, lossG] = tf.tidy(() => {
    const z1 = tf.randomNormal([b, 1, 1, nz], 0, 1, 'float32', noiseSeed);
    const z2 = tf.randomNormal([b, 1, 1, nz], 0, 1, 'float32', noiseSeed + 1);
    const fake = tf.tidy(() => gan.generator.apply(z1, { training: true }) as tf.Tensor);
    const fakeNoGrad = tf.keep(fake.clone());
    const ld = gan.optD.minimize(() => {
      const dr = gan.discriminator.apply(real, { training: true }) as tf.Tensor;
      const df = gan.discriminator.apply(fakeNoGrad, { training: true }) as tf.Tensor;
      return tf.add(bce(dr, 1), bce(df, 0)) as tf.Scalar;
    }, true, trainable(gan.discriminator))!;
    fakeNoGrad.dispose();
    const lg = gan.optG.minimize(() => {
      const out = gan.discriminator.apply(gan.generator.apply(z2, { training: true }) as tf.Tensor, { training: true }) as tf.Tensor;
      return bce(out, 1);
    }, true, trainable(gan.generator))!;
    return [ld, lg];
  });
  const out = { lossD: lossD.dataSync()[0]!, lossG: lossG.dataSync()[0]! };
  tf.dispose([lossD, lossG]);
  return out;
}

export interface ResnetConfig {
  inputSize: number;
  channels: number;
  /** Stem width, then the four blocks' widths. */
  widths: [number, number, number, number, number];
  classes: number;
  seed: number;
}

export const RESNET_128: ResnetConfig = { inputSize: 128, channels: 3, widths: [32, 32, 64, 128, 256], classes: 10, seed: 0 };

export interface Resnet {
  config: ResnetConfig;
  model: tf.LayersModel;
  opt: tf.Optimizer;
}

export function buildResnet(config: ResnetConfig): Resnet {
  const init = new SeededInitializers(config.seed);
  const conv = (filters: number, k: number, s: number) =>
    conv2d({ filters, kernelSize: k, strides: s, padding: 'same', useBias: false, kernelInitializer: init.heNormal() });
  const input = tf.input({ shape: [config.inputSize, config.inputSize, config.channels] });
  let x = conv(config.widths[0], 3, 2).apply(input) as tf.SymbolicTensor;
  x = batchNormalization(BN).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  let inCh = config.widths[0];
  config.widths.slice(1).forEach((out, i) => {
    const stride = i === 0 ? 1 : 2;
    let y = conv(out, 3, stride).apply(x) as tf.SymbolicTensor;
    y = batchNormalization(BN).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
    y = conv(out, 3, 1).apply(y) as tf.SymbolicTensor;
    y = batchNormalization(BN).apply(y) as tf.SymbolicTensor;
    let sc = x;
    if (stride !== 1 || inCh !== out) {
      sc = conv(out, 1, stride).apply(x) as tf.SymbolicTensor;
      sc = batchNormalization(BN).apply(sc) as tf.SymbolicTensor;
    }
    x = tf.layers.reLU().apply(tf.layers.add().apply([y, sc]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    inCh = out;
  });
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: config.classes, kernelInitializer: init.glorotUniform() }).apply(x) as tf.SymbolicTensor;
  return { config, model: tf.model({ inputs: input, outputs: logits, name: 'resnet' }), opt: multiTensorAdam(1e-3) };
}

/** One training step on (x, integer labels); returns the loss. */
export function resnetStep(net: Resnet, x: tf.Tensor4D, labels: tf.Tensor1D): number {
  const loss = tf.tidy(() => {
    const onehot = tf.oneHot(labels, net.config.classes);
    return net.opt.minimize(() => {
      const logits = net.model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
    }, true, trainable(net.model))!;
  });
  const v = loss.dataSync()[0]!;
  loss.dispose();
  return v;
}

/** Frees a network's weights and optimizer state. */
export function disposeNets(...nets: (Dcgan | Resnet)[]): void {
  for (const n of nets) {
    if ('generator' in n) {
      n.generator.dispose();
      n.discriminator.dispose();
      n.optG.dispose();
      n.optD.dispose();
    } else {
      n.model.dispose();
      n.opt.dispose();
    }
  }
}
