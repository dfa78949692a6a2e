// Small 2-D convolution used by the blur/sharpen transforms. Borders reflect without repeating the edge pixel
// (OpenCV's BORDER_REFLECT_101, the default albumentations uses), so edges are neither darkened nor smeared.

import { withData, type GrayImage } from '../image.js';

function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** Convolve with a k×k kernel (k odd, row-major) and clamp to [0, 1]. */
export function convolve(img: GrayImage, kernel: Float32Array | readonly number[], k: number): GrayImage {
  const { width: w, height: h, data } = img;
  const r = (k - 1) >> 1;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let j = 0; j < k; j++) {
        const yy = reflect101(y + j - r, h) * w;
        for (let i = 0; i < k; i++) {
          const kv = kernel[j * k + i]!;
          if (kv !== 0) acc += kv * data[yy + reflect101(x + i - r, w)]!;
        }
      }
      out[y * w + x] = acc < 0 ? 0 : acc > 1 ? 1 : acc;
    }
  }
  return withData(img, out);
}
