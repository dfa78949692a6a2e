// Additive brightness shift of ±limit of full scale. This is what albumentations HueSaturationValue does to a grey
// image (hue and saturation shifts leave grey unchanged; val_shift_limit=20 of 255 ≈ 0.078), which the study's
// third OneOf group applied to its grey-replicated RGB inputs.

import { withData, type GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import type { Transform } from './transform.js';

export class ValueShift implements Transform {
  readonly name = 'ValueShift';
  constructor(readonly limit = 20 / 255) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    const d = rng.uniform(-this.limit, this.limit);
    const out = new Float32Array(img.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = img.data[i]! + d;
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return withData(img, out);
  }
}
