// EfficientNet (Tan & Le 2019), B0 and B1 scaled down. The building block is the real MBConv: 1×1 expansion
// (×expand, BN, swish) → depthwise k×k (BN, swish) → squeeze-excitation (global pool, 1×1 reduce to a quarter of
// the block's input channels with swish, 1×1 expand with sigmoid, channel-wise multiply) → 1×1 linear projection
// (BN) → identity shortcut when stride 1 and shapes match. Then the 1×1 head conv, global pool, dropout, Dense.
// Stages keep B0's (expand, kernel, stride) pattern with channels ÷ 4 and fewer repeats; B1 repeats the middle
// stages once more (the real B1 scales depth by 1.1) and has a wider head conv.
import { batchNormalization, conv2d, tf } from '../../../shared/tf/index.js';
import { canHalve, channels, checkBuildOptions, half, head, inputLayer, Seeds, type BuildOptions } from './common.js';

type T = tf.SymbolicTensor;

interface Stage {
  expand: number;
  out: number;
  repeats: number;
  stride: number;
  kernel: number;
}

// B0's seven stages (expand, channels, repeats, stride, kernel): (1,16,1,1,3) (6,24,2,2,3) (6,40,2,2,5)
// (6,80,3,2,3) (6,112,3,1,5) (6,192,4,2,5) (6,320,1,1,3) — here five, channels ÷ 4, expansion 4.
const B0: readonly Stage[] = [
  { expand: 1, out: 8, repeats: 1, stride: 1, kernel: 3 },
  { expand: 4, out: 12, repeats: 1, stride: 2, kernel: 3 },
  { expand: 4, out: 20, repeats: 1, stride: 2, kernel: 5 },
  { expand: 4, out: 40, repeats: 1, stride: 2, kernel: 3 },
  { expand: 4, out: 56, repeats: 1, stride: 1, kernel: 5 },
];
const B1: readonly Stage[] = B0.map((s, i) => (i >= 1 && i <= 3 ? { ...s, repeats: s.repeats + 1 } : s));

export type EfficientNetVariant = 'b0' | 'b1';

function convBn(x: T, filters: number, kernel: number, stride: number, seeds: Seeds, name: string, act: 'swish' | null): T {
  let y = conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: seeds.he(), name: `${name}_conv` })
    .apply(x) as T;
  y = batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3, name: `${name}_bn` }).apply(y) as T;
  return act === null ? y : (tf.layers.activation({ activation: act, name: `${name}_act` }).apply(y) as T);
}

function squeezeExcite(x: T, inCh: number, seeds: Seeds, name: string): T {
  const ch = x.shape[x.shape.length - 1]!;
  const reduced = Math.max(1, Math.round(inCh * 0.25));
  let s = tf.layers.globalAveragePooling2d({ name: `${name}_se_pool` }).apply(x) as T;
  s = tf.layers.reshape({ targetShape: [1, 1, ch], name: `${name}_se_reshape` }).apply(s) as T;
  s = conv2d({ filters: reduced, kernelSize: 1, activation: 'swish', kernelInitializer: seeds.he(), name: `${name}_se_reduce` }).apply(s) as T;
  s = conv2d({ filters: ch, kernelSize: 1, activation: 'sigmoid', kernelInitializer: seeds.glorot(), name: `${name}_se_expand` }).apply(s) as T;
  return tf.layers.multiply({ name: `${name}_se_scale` }).apply([x, s]) as T;
}

function mbConv(x: T, stage: Stage, out: number, stride: number, seeds: Seeds, name: string): T {
  const inCh = x.shape[x.shape.length - 1]!;
  let y = stage.expand === 1 ? x : convBn(x, inCh * stage.expand, 1, 1, seeds, `${name}_expand`, 'swish');
  y = tf.layers
    .depthwiseConv2d({ kernelSize: stage.kernel, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: seeds.he(), name: `${name}_dw` })
    .apply(y) as T;
  y = batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3, name: `${name}_dw_bn` }).apply(y) as T;
  y = tf.layers.activation({ activation: 'swish', name: `${name}_dw_act` }).apply(y) as T;
  y = squeezeExcite(y, inCh, seeds, name);
  y = convBn(y, out, 1, 1, seeds, `${name}_project`, null);
  return stride === 1 && inCh === out ? (tf.layers.add({ name: `${name}_add` }).apply([y, x]) as T) : y;
}

export function buildEfficientNet(o: BuildOptions & { variant: EfficientNetVariant }): tf.LayersModel {
  checkBuildOptions(o);
  const stages = o.variant === 'b1' ? B1 : B0;
  const seeds = new Seeds(o.seed);
  const { input, x: normalized } = inputLayer(o.imageSize);
  let x = convBn(normalized, channels(8, o.width), 3, 2, seeds, 'stem', 'swish');
  let spatial = half(o.imageSize);
  stages.forEach((stage, si) => {
    const out = channels(stage.out, o.width);
    for (let r = 0; r < stage.repeats; r++) {
      const stride = r === 0 && stage.stride === 2 && canHalve(spatial) ? 2 : 1;
      if (stride === 2) spatial = half(spatial);
      x = mbConv(x, stage, out, stride, seeds, `s${si + 1}b${r + 1}`);
    }
  });
  x = convBn(x, channels(o.variant === 'b1' ? 192 : 160, o.width), 1, 1, seeds, 'top', 'swish');
  const pooled = tf.layers.globalAveragePooling2d({ name: 'features' }).apply(x) as T;
  return head(input, pooled, o, seeds, `efficientnet_${o.variant}_small`);
}
