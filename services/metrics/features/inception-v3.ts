// The FID InceptionV3: the 2015 TensorFlow Inception graph that every FID number in the literature
// uses (TTUR, pytorch-fid's `pt_inception-2015-12-05`, torchmetrics), up to the 2048-d average pool.
// It differs from the Keras/torchvision ImageNet InceptionV3 in two details that change FID values,
// and both are reproduced here:
//  - the 3 × 3 average pools in the Inception blocks exclude padding from the mean (TF "same"
//    average pooling does exactly this; torchvision's default count_include_pad=True does not);
//  - the last block (Mixed_7c) pools its branch with a 3 × 3 MAX pool instead of an average pool.
// Layer names follow pytorch-fid's module names ("Mixed_5b.branch1x1.conv", "...bn"), so converted
// weights map one to one (see README.md). Every conv is conv (no bias) → batch norm (ε = 0.001) → ReLU.
// Input: N × H × W × 3 in [−1, 1] (the network's own normalisation); H = W = 299 for FID. The
// architecture works for any size ≥ 75, which the tests use because 299 is slow on the cpu backend.
import { ArtifactsNotFoundError } from '../../../shared/tf/index.js';
import { loadNamedWeights, weightsHash } from './artifacts.js';
import { MissingWeightsError, type FeatureNetwork } from './network.js';
import { tf } from './tf.js';
import { batchNormalization, conv2d } from '../../../shared/tf/index.js';

type SymbolicTensor = tf.SymbolicTensor;
type Kernel = number | [number, number];

export const INCEPTION_INPUT_SIZE = 299;
export const INCEPTION_FEATURE_DIM = 2048;
/** smallest input the stride-2 stages accept */
export const INCEPTION_MIN_INPUT_SIZE = 75;

function conv(x: SymbolicTensor, name: string, filters: number, kernel: Kernel, strides = 1, padding: 'same' | 'valid' = 'same'): SymbolicTensor {
  const y = conv2d({ name: `${name}.conv`, filters, kernelSize: kernel, strides, padding, useBias: false })
    .apply(x) as SymbolicTensor;
  const z = batchNormalization({ name: `${name}.bn`, epsilon: 0.001, axis: -1 }).apply(y) as SymbolicTensor;
  return tf.layers.activation({ name: `${name}.relu`, activation: 'relu' }).apply(z) as SymbolicTensor;
}

function concat(name: string, xs: SymbolicTensor[]): SymbolicTensor {
  return tf.layers.concatenate({ name, axis: -1 }).apply(xs) as SymbolicTensor;
}

function avgPool3(x: SymbolicTensor, name: string): SymbolicTensor {
  // "same" average pooling averages over the in-bounds cells only (count_include_pad=False)
  return tf.layers.averagePooling2d({ name, poolSize: 3, strides: 1, padding: 'same' }).apply(x) as SymbolicTensor;
}

function maxPool(x: SymbolicTensor, name: string, strides: number, padding: 'same' | 'valid'): SymbolicTensor {
  return tf.layers.maxPooling2d({ name, poolSize: 3, strides, padding }).apply(x) as SymbolicTensor;
}

function blockA(x: SymbolicTensor, n: string, poolFeatures: number): SymbolicTensor {
  const b1 = conv(x, `${n}.branch1x1`, 64, 1);
  const b5 = conv(conv(x, `${n}.branch5x5_1`, 48, 1), `${n}.branch5x5_2`, 64, 5);
  let b3 = conv(x, `${n}.branch3x3dbl_1`, 64, 1);
  b3 = conv(b3, `${n}.branch3x3dbl_2`, 96, 3);
  b3 = conv(b3, `${n}.branch3x3dbl_3`, 96, 3);
  const bp = conv(avgPool3(x, `${n}.avg_pool`), `${n}.branch_pool`, poolFeatures, 1);
  return concat(n, [b1, b5, b3, bp]);
}

function blockB(x: SymbolicTensor, n: string): SymbolicTensor {
  const b3 = conv(x, `${n}.branch3x3`, 384, 3, 2, 'valid');
  let bd = conv(x, `${n}.branch3x3dbl_1`, 64, 1);
  bd = conv(bd, `${n}.branch3x3dbl_2`, 96, 3);
  bd = conv(bd, `${n}.branch3x3dbl_3`, 96, 3, 2, 'valid');
  return concat(n, [b3, bd, maxPool(x, `${n}.max_pool`, 2, 'valid')]);
}

function blockC(x: SymbolicTensor, n: string, c7: number): SymbolicTensor {
  const b1 = conv(x, `${n}.branch1x1`, 192, 1);
  let b7 = conv(x, `${n}.branch7x7_1`, c7, 1);
  b7 = conv(b7, `${n}.branch7x7_2`, c7, [1, 7]);
  b7 = conv(b7, `${n}.branch7x7_3`, 192, [7, 1]);
  let bd = conv(x, `${n}.branch7x7dbl_1`, c7, 1);
  bd = conv(bd, `${n}.branch7x7dbl_2`, c7, [7, 1]);
  bd = conv(bd, `${n}.branch7x7dbl_3`, c7, [1, 7]);
  bd = conv(bd, `${n}.branch7x7dbl_4`, c7, [7, 1]);
  bd = conv(bd, `${n}.branch7x7dbl_5`, 192, [1, 7]);
  const bp = conv(avgPool3(x, `${n}.avg_pool`), `${n}.branch_pool`, 192, 1);
  return concat(n, [b1, b7, bd, bp]);
}

function blockD(x: SymbolicTensor, n: string): SymbolicTensor {
  const b3 = conv(conv(x, `${n}.branch3x3_1`, 192, 1), `${n}.branch3x3_2`, 320, 3, 2, 'valid');
  let b7 = conv(x, `${n}.branch7x7x3_1`, 192, 1);
  b7 = conv(b7, `${n}.branch7x7x3_2`, 192, [1, 7]);
  b7 = conv(b7, `${n}.branch7x7x3_3`, 192, [7, 1]);
  b7 = conv(b7, `${n}.branch7x7x3_4`, 192, 3, 2, 'valid');
  return concat(n, [b3, b7, maxPool(x, `${n}.max_pool`, 2, 'valid')]);
}

function blockE(x: SymbolicTensor, n: string, pool: 'avg' | 'max'): SymbolicTensor {
  const b1 = conv(x, `${n}.branch1x1`, 320, 1);
  const b3 = conv(x, `${n}.branch3x3_1`, 384, 1);
  const b3c = concat(`${n}.branch3x3`, [conv(b3, `${n}.branch3x3_2a`, 384, [1, 3]), conv(b3, `${n}.branch3x3_2b`, 384, [3, 1])]);
  let bd = conv(x, `${n}.branch3x3dbl_1`, 448, 1);
  bd = conv(bd, `${n}.branch3x3dbl_2`, 384, 3);
  const bdc = concat(`${n}.branch3x3dbl`, [conv(bd, `${n}.branch3x3dbl_3a`, 384, [1, 3]), conv(bd, `${n}.branch3x3dbl_3b`, 384, [3, 1])]);
  const pooled = pool === 'avg' ? avgPool3(x, `${n}.avg_pool`) : maxPool(x, `${n}.max_pool`, 1, 'same');
  const bp = conv(pooled, `${n}.branch_pool`, 192, 1);
  return concat(n, [b1, b3c, bdc, bp]);
}

/** Builds the FID InceptionV3 (randomly initialised; load weights with loadNamedWeights). */
export function buildInceptionV3(inputSize = INCEPTION_INPUT_SIZE): tf.LayersModel {
  if (!Number.isInteger(inputSize) || inputSize < INCEPTION_MIN_INPUT_SIZE) {
    throw new RangeError(`InceptionV3 input must be an integer ≥ ${INCEPTION_MIN_INPUT_SIZE} px, got ${inputSize}`);
  }
  const input = tf.input({ name: 'input', shape: [inputSize, inputSize, 3] });
  let x = conv(input, 'Conv2d_1a_3x3', 32, 3, 2, 'valid');
  x = conv(x, 'Conv2d_2a_3x3', 32, 3, 1, 'valid');
  x = conv(x, 'Conv2d_2b_3x3', 64, 3);
  x = maxPool(x, 'maxpool1', 2, 'valid');
  x = conv(x, 'Conv2d_3b_1x1', 80, 1, 1, 'valid');
  x = conv(x, 'Conv2d_4a_3x3', 192, 3, 1, 'valid');
  x = maxPool(x, 'maxpool2', 2, 'valid');
  x = blockA(x, 'Mixed_5b', 32);
  x = blockA(x, 'Mixed_5c', 64);
  x = blockA(x, 'Mixed_5d', 64);
  x = blockB(x, 'Mixed_6a');
  x = blockC(x, 'Mixed_6b', 128);
  x = blockC(x, 'Mixed_6c', 160);
  x = blockC(x, 'Mixed_6d', 160);
  x = blockC(x, 'Mixed_6e', 192);
  x = blockD(x, 'Mixed_7a');
  x = blockE(x, 'Mixed_7b', 'avg');
  x = blockE(x, 'Mixed_7c', 'max');
  const pool = tf.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as SymbolicTensor;
  return tf.model({ name: 'fid_inception_v3', inputs: input, outputs: pool });
}

/** Where the operator puts converted weights (storage layout models/<kind>/<model-id>/<step>/). */
export const INCEPTION_WEIGHTS_PREFIX = 'models/feature-network/inception-v3/0';

/**
 * The inception-v3 feature network with weights from `handler` (e.g. blobIOHandler(store,
 * INCEPTION_WEIGHTS_PREFIX)). Only the weights are read: the architecture always comes from
 * buildInceptionV3, so a file cannot swap in a different network under the standard name.
 */
export async function loadInceptionV3(handler: tf.io.IOHandler, inputSize = INCEPTION_INPUT_SIZE): Promise<FeatureNetwork> {
  if (handler.load === undefined) throw new TypeError('the IO handler cannot load');
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (err) {
    if (err instanceof ArtifactsNotFoundError) {
      throw new MissingWeightsError(
        `feature network inception-v3 needs the FID Inception weights in tfjs format at ${INCEPTION_WEIGHTS_PREFIX}/model.json; ` +
          'convert them as services/metrics/features/README.md describes, or ask for feature_network "domain"',
      );
    }
    throw err;
  }
  const model = buildInceptionV3(inputSize);
  try {
    loadNamedWeights(model, artifacts);
  } catch (err) {
    model.dispose();
    throw new MissingWeightsError(`inception-v3 weights at ${INCEPTION_WEIGHTS_PREFIX} are unusable: ${(err as Error).message}`);
  }
  return inceptionNetwork(model, weightsHash(artifacts));
}

/** Wraps a built InceptionV3 as a feature network (inputs [0,1] gray → [−1,1] RGB). */
export function inceptionNetwork(model: tf.LayersModel, hash: string): FeatureNetwork {
  const size = model.inputs[0]!.shape[1]!;
  return {
    name: 'inception-v3',
    dim: INCEPTION_FEATURE_DIM,
    weightsHash: hash,
    input: { size, channels: 3, scale: 2, offset: -1 },
    forward: (batch) => model.predict(batch) as tf.Tensor2D,
    dispose: () => model.dispose(),
  };
}
