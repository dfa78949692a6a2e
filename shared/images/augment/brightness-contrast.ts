// out = x·(1 + c) + b, c ∈ ±contrastLimit, b ∈ ±brightnessLimit (albumentations RandomBrightnessContrast with
// brightness_by_max: brightness is a fraction of full scale). Defaults 0.2 / 0.2 as in the study.

import { withData, type GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import type { Transform } from './transform.js';

export class BrightnessContrast implements Transform {
  readonly name = 'BrightnessContrast';
  constructor(
    readonly brightnessLimit = 0.2,
    readonly contrastLimit = 0.2,
  ) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    const alpha = 1 + rng.uniform(-this.contrastLimit, this.contrastLimit);
    const beta = rng.uniform(-this.brightnessLimit, this.brightnessLimit);
    return brightnessContrast(img, alpha, beta);
  }
}

export function brightnessContrast(img: GrayImage, alpha: number, beta: number): GrayImage {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]! * alpha + beta;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return withData(img, out);
}
