// ResNet (He et al. 2016), the study's ResNet-50 scaled down: the same stem → four stages → global pool shape,
// with bottleneck blocks (1×1 reduce, 3×3, 1×1 expand ×4, BN after every conv, projection shortcut where the
// shape changes) and one block per stage instead of 3-4-6-3. `block: 'basic'` gives the ResNet-18/34 block
// (two 3×3 convs) for comparison. Widths are the real ones (64-128-256-512 inner) divided by 8.
import { batchNormalization, conv2d, tf } from '../../../shared/tf/index.js';
import { canHalve, channels, checkBuildOptions, half, head, inputLayer, Seeds, type BuildOptions } from './common.js';

export interface ResNetOptions extends BuildOptions {
  block?: 'bottleneck' | 'basic';
  /** Blocks per stage; default [1, 1, 1, 1]. */
  depths?: readonly number[];
}

type T = tf.SymbolicTensor;

function convBn(x: T, filters: number, kernel: number, stride: number, seeds: Seeds, name: string, relu: boolean): T {
  let y = conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: seeds.he(), name: `${name}_conv` })
    .apply(x) as T;
  y = batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name: `${name}_bn` }).apply(y) as T;
  return relu ? (tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as T) : y;
}

function block(x: T, inner: number, stride: number, kind: 'bottleneck' | 'basic', seeds: Seeds, name: string): T {
  const inCh = x.shape[x.shape.length - 1]!;
  const out = kind === 'bottleneck' ? inner * 4 : inner;
  let y: T;
  if (kind === 'bottleneck') {
    y = convBn(x, inner, 1, 1, seeds, `${name}_1`, true);
    y = convBn(y, inner, 3, stride, seeds, `${name}_2`, true);
    y = convBn(y, out, 1, 1, seeds, `${name}_3`, false);
  } else {
    y = convBn(x, inner, 3, stride, seeds, `${name}_1`, true);
    y = convBn(y, inner, 3, 1, seeds, `${name}_2`, false);
  }
  const shortcut = stride !== 1 || inCh !== out ? convBn(x, out, 1, stride, seeds, `${name}_proj`, false) : x;
  const sum = tf.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as T;
  return tf.layers.activation({ activation: 'relu', name: `${name}_out` }).apply(sum) as T;
}

export function buildResNet(o: ResNetOptions): tf.LayersModel {
  checkBuildOptions(o);
  const kind = o.block ?? 'bottleneck';
  const depths = o.depths ?? [1, 1, 1, 1];
  const seeds = new Seeds(o.seed);
  const { input, x: normalized } = inputLayer(o.imageSize);
  // Stem: the real 7×7/2 conv + 3×3/2 max-pool, reduced to one 3×3/2 conv for inputs of 16–256 px.
  let x = convBn(normalized, channels(16, o.width), 3, 2, seeds, 'stem', true);
  let spatial = half(o.imageSize);
  const inner = [8, 16, 32, 64].map((c) => channels(c, o.width));
  depths.forEach((n, stage) => {
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && stage > 0 && canHalve(spatial) ? 2 : 1;
      if (stride === 2) spatial = half(spatial);
      x = block(x, inner[stage] ?? inner[inner.length - 1]!, stride, kind, seeds, `s${stage + 1}b${b + 1}`);
    }
  });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'features' }).apply(x) as T;
  return head(input, pooled, o, seeds, kind === 'bottleneck' ? 'resnet50_small' : 'resnet_basic_small');
}
