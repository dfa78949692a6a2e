// ConvNeXt (Liu et al. 2022), Tiny and Small scaled down. The block is the real one: depthwise 7×7 conv →
// LayerNorm over channels → pointwise Dense to 4× channels → GELU → pointwise Dense back → residual add.
// Stem: "patchify" k×k/k conv + LayerNorm (k = 4, or 2 for inputs under 64 px so four stages still fit);
// between stages LayerNorm + 2×2/2 conv; after pooling a final LayerNorm (timm's head norm), which is the
// "features" vector. Tiny's depths 3-3-9-3 become 1-1-2-1, Small's 3-3-27-3 become 1-1-4-1 (Small is Tiny
// made deeper, as in the paper); widths 96-192-384-768 ÷ 6. Not kept: layer scale and stochastic depth
// (they need custom layers the metrics service could not deserialise without registering them too).
import { conv2d, tf } from '../../../shared/tf/index.js';
import { canHalve, channels, checkBuildOptions, head, inputLayer, Seeds, type BuildOptions } from './common.js';

type T = tf.SymbolicTensor;

export type ConvNeXtVariant = 'tiny' | 'small';

const DEPTHS: Record<ConvNeXtVariant, readonly number[]> = { tiny: [1, 1, 2, 1], small: [1, 1, 4, 1] };
const DIMS = [16, 32, 64, 128];

function layerNorm(x: T, name: string): T {
  return tf.layers.layerNormalization({ axis: -1, epsilon: 1e-6, name }).apply(x) as T;
}

function block(x: T, dim: number, seeds: Seeds, name: string): T {
  let y = tf.layers
    .depthwiseConv2d({ kernelSize: 7, padding: 'same', depthwiseInitializer: seeds.truncated(), name: `${name}_dw` })
    .apply(x) as T;
  y = layerNorm(y, `${name}_ln`);
  y = tf.layers.dense({ units: 4 * dim, kernelInitializer: seeds.truncated(), name: `${name}_pw1` }).apply(y) as T;
  y = tf.layers.activation({ activation: 'gelu', name: `${name}_gelu` }).apply(y) as T;
  y = tf.layers.dense({ units: dim, kernelInitializer: seeds.truncated(), name: `${name}_pw2` }).apply(y) as T;
  return tf.layers.add({ name: `${name}_add` }).apply([x, y]) as T;
}

export function buildConvNeXt(o: BuildOptions & { variant: ConvNeXtVariant }): tf.LayersModel {
  checkBuildOptions(o);
  const seeds = new Seeds(o.seed);
  const dims = DIMS.map((d) => channels(d, o.width));
  const { input, x: normalized } = inputLayer(o.imageSize);
  const patch = o.imageSize >= 64 ? 4 : 2;
  let x = conv2d({ filters: dims[0]!, kernelSize: patch, strides: patch, padding: 'same', kernelInitializer: seeds.truncated(), name: 'stem_conv' })
    .apply(normalized) as T;
  x = layerNorm(x, 'stem_ln');
  let spatial = Math.ceil(o.imageSize / patch);
  DEPTHS[o.variant].forEach((depth, stage) => {
    if (stage > 0 && canHalve(spatial)) {
      x = layerNorm(x, `down${stage}_ln`);
      x = conv2d({ filters: dims[stage]!, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: seeds.truncated(), name: `down${stage}_conv` })
        .apply(x) as T;
      spatial = Math.ceil(spatial / 2);
    } else if (stage > 0) {
      // Too small to halve again: widen with a 1×1 conv so the stage keeps its channel count.
      x = layerNorm(x, `down${stage}_ln`);
      x = conv2d({ filters: dims[stage]!, kernelSize: 1, kernelInitializer: seeds.truncated(), name: `down${stage}_conv` }).apply(x) as T;
    }
    for (let b = 0; b < depth; b++) x = block(x, dims[stage]!, seeds, `s${stage + 1}b${b + 1}`);
  });
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as T;
  const features = layerNorm(pooled, 'features');
  return head(input, features, o, seeds, `convnext_${o.variant}_small`);
}
