// Motion blur: average along a straight line through the kernel centre at a random angle, length = kernel size
// (odd, from [3, blurLimit]; the study used 3). Models patient/detector motion during exposure. The line is
// rasterised with sub-pixel samples so diagonal and shallow angles get the same total weight.

import type { GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import { convolve } from './convolve.js';
import type { Transform } from './transform.js';

export class MotionBlur implements Transform {
  readonly name = 'MotionBlur';
  constructor(readonly blurLimit = 3) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    const k = 3 + 2 * rng.int(0, Math.max(0, (this.blurLimit - 3) >> 1));
    return motionBlur(img, k, rng.uniform(0, Math.PI));
  }
}

export function motionBlurKernel(k: number, angle: number): Float32Array {
  const kern = new Float32Array(k * k);
  const r = (k - 1) / 2;
  const steps = k * 8;
  for (let s = 0; s <= steps; s++) {
    const t = -r + (2 * r * s) / steps;
    const x = Math.round(r + t * Math.cos(angle));
    const y = Math.round(r + t * Math.sin(angle));
    kern[y * k + x]! += 1;
  }
  let sum = 0;
  for (const v of kern) sum += v;
  for (let i = 0; i < kern.length; i++) kern[i]! /= sum;
  return kern;
}

export function motionBlur(img: GrayImage, k: number, angle: number): GrayImage {
  return convolve(img, motionBlurKernel(k, angle), k);
}
