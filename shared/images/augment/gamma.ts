// out = x^γ with γ ∈ [gammaMin, gammaMax] (albumentations RandomGamma gamma_limit=(80, 120) → 0.8–1.2).

import { withData, type GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import type { Transform } from './transform.js';

export class Gamma implements Transform {
  readonly name = 'Gamma';
  constructor(
    readonly gammaMin = 0.8,
    readonly gammaMax = 1.2,
  ) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    return gamma(img, rng.uniform(this.gammaMin, this.gammaMax));
  }
}

export function gamma(img: GrayImage, g: number): GrayImage {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 1 : Math.pow(v, g);
  }
  return withData(img, out);
}
