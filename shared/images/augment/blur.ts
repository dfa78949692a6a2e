// Box blur with an odd kernel size drawn from [3, blurLimit] (albumentations Blur; the study used blur_limit=3).

import type { GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import { convolve } from './convolve.js';
import type { Transform } from './transform.js';

export class Blur implements Transform {
  readonly name = 'Blur';
  constructor(readonly blurLimit = 3) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    const k = 3 + 2 * rng.int(0, Math.max(0, (this.blurLimit - 3) >> 1));
    return boxBlur(img, k);
  }
}

export function boxBlur(img: GrayImage, k: number): GrayImage {
  return convolve(img, new Float32Array(k * k).fill(1 / (k * k)), k);
}
