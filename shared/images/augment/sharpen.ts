// Unsharp-style 3×3 sharpen (albumentations Sharpen): kernel = (1−α)·identity + α·[[-1,-1,-1],[-1,8+L,-1],[-1,-1,-1]],
// α ∈ [0.2, 0.5] (blend with the original), L ∈ [0.5, 1] (lightness: the kernel sums to (1−α)+αL, so L<1 dims slightly,
// exactly as the library the study used does).

import type { GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import { convolve } from './convolve.js';
import type { Transform } from './transform.js';

export class Sharpen implements Transform {
  readonly name = 'Sharpen';
  constructor(
    readonly alpha: readonly [number, number] = [0.2, 0.5],
    readonly lightness: readonly [number, number] = [0.5, 1],
  ) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    const a = rng.uniform(this.alpha[0], this.alpha[1]);
    const l = rng.uniform(this.lightness[0], this.lightness[1]);
    return sharpen(img, a, l);
  }
}

export function sharpen(img: GrayImage, alpha: number, lightness: number): GrayImage {
  const k = new Float32Array(9).fill(-alpha);
  k[4] = 1 - alpha + alpha * (8 + lightness);
  return convolve(img, k, 3);
}
