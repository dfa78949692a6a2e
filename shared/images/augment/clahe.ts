// Contrast-limited adaptive histogram equalisation (OpenCV's algorithm, as albumentations CLAHE calls it):
// the image is cut into tiles (8×8 by default); each tile gets a 256-bin histogram clipped at
// clipLimit × (tile pixels / 256), the excess spread evenly over all bins, and its CDF becomes a lookup table.
// Each pixel is mapped through the four nearest tiles' tables, bilinearly blended, so tile seams don't show.
// clipLimit is drawn from [1, clipLimitMax] (albumentations default clip_limit=4.0 → (1, 4)).

import { withData, type GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import type { Transform } from './transform.js';

const BINS = 256;

export class Clahe implements Transform {
  readonly name = 'CLAHE';
  constructor(
    readonly clipLimitMax = 4,
    readonly tiles = 8,
  ) {}
  apply(img: GrayImage, rng: Rng): GrayImage {
    return clahe(img, rng.uniform(1, this.clipLimitMax), this.tiles);
  }
}

export function clahe(img: GrayImage, clipLimit: number, tiles = 8): GrayImage {
  const { width: w, height: h, data } = img;
  const tx = Math.max(1, Math.min(tiles, w)), ty = Math.max(1, Math.min(tiles, h));
  const tw = w / tx, th = h / ty;
  const bin = new Uint8Array(w * h);
  for (let i = 0; i < bin.length; i++) {
    const v = data[i]!;
    bin[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  const luts = new Float32Array(tx * ty * BINS);
  const hist = new Float64Array(BINS);
  for (let j = 0; j < ty; j++) {
    for (let i = 0; i < tx; i++) {
      hist.fill(0);
      const x0 = Math.floor(i * tw), x1 = Math.floor((i + 1) * tw);
      const y0 = Math.floor(j * th), y1 = Math.floor((j + 1) * th);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) hist[bin[y * w + x]!]!++;
      const area = Math.max(1, (x1 - x0) * (y1 - y0));
      const limit = Math.max(1, (clipLimit * area) / BINS);
      let excess = 0;
      for (let b = 0; b < BINS; b++) if (hist[b]! > limit) { excess += hist[b]! - limit; hist[b] = limit; }
      const add = excess / BINS;
      let cdf = 0;
      const base = (j * tx + i) * BINS;
      for (let b = 0; b < BINS; b++) {
        cdf += hist[b]! + add;
        luts[base + b] = cdf / area;
      }
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    // Position relative to tile centres.
    const gy = (y + 0.5) / th - 0.5;
    const j0 = Math.max(0, Math.min(ty - 1, Math.floor(gy)));
    const j1 = Math.min(ty - 1, j0 + 1);
    const fy = Math.max(0, Math.min(1, gy - j0));
    for (let x = 0; x < w; x++) {
      const gx = (x + 0.5) / tw - 0.5;
      const i0 = Math.max(0, Math.min(tx - 1, Math.floor(gx)));
      const i1 = Math.min(tx - 1, i0 + 1);
      const fx = Math.max(0, Math.min(1, gx - i0));
      const b = bin[y * w + x]!;
      const v00 = luts[(j0 * tx + i0) * BINS + b]!, v01 = luts[(j0 * tx + i1) * BINS + b]!;
      const v10 = luts[(j1 * tx + i0) * BINS + b]!, v11 = luts[(j1 * tx + i1) * BINS + b]!;
      const v = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy;
      out[y * w + x] = v > 1 ? 1 : v;
    }
  }
  return withData(img, out);
}
