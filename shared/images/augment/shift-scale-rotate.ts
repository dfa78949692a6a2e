// Random affine about the image centre: shift by up to ±shiftLimit of the size, scale by 1 ± scaleLimit, rotate by
// ±rotateLimit degrees (albumentations ShiftScaleRotate). The study used shift 0.1, scale 0.5, rotate 10° with a
// constant black border (border_mode=0). Bilinear sampling. There is deliberately no flip anywhere in this module:
// left–right carries meaning in a chest X-ray (heart on the patient's left).

import { withData, type GrayImage } from '../image.js';
import type { Rng } from '../rng.js';
import type { Transform } from './transform.js';

export interface ShiftScaleRotateOptions {
  shiftLimit?: number;
  scaleLimit?: number;
  rotateLimitDeg?: number;
  /** Value outside the source image (0 = black, as in the study). */
  borderValue?: number;
}

export interface AffineParams {
  dx: number; // fraction of width
  dy: number; // fraction of height
  scale: number;
  angleDeg: number;
}

export class ShiftScaleRotate implements Transform {
  readonly name = 'ShiftScaleRotate';
  readonly shiftLimit: number;
  readonly scaleLimit: number;
  readonly rotateLimitDeg: number;
  readonly borderValue: number;
  constructor(o: ShiftScaleRotateOptions = {}) {
    this.shiftLimit = o.shiftLimit ?? 0.1;
    this.scaleLimit = o.scaleLimit ?? 0.5;
    this.rotateLimitDeg = o.rotateLimitDeg ?? 10;
    this.borderValue = o.borderValue ?? 0;
  }
  sample(rng: Rng): AffineParams {
    return {
      angleDeg: rng.uniform(-this.rotateLimitDeg, this.rotateLimitDeg),
      scale: rng.uniform(1 - this.scaleLimit, 1 + this.scaleLimit),
      dx: rng.uniform(-this.shiftLimit, this.shiftLimit),
      dy: rng.uniform(-this.shiftLimit, this.shiftLimit),
    };
  }
  apply(img: GrayImage, rng: Rng): GrayImage {
    return affine(img, this.sample(rng), this.borderValue);
  }
}

/** Forward map: p' = R(angle)·scale·(p − c) + c + shift. We sample the inverse for every output pixel. */
export function affine(img: GrayImage, p: AffineParams, borderValue = 0): GrayImage {
  const { width: w, height: h, data } = img;
  const cx = w / 2, cy = h / 2;
  const a = (p.angleDeg * Math.PI) / 180;
  const cos = Math.cos(a) / p.scale, sin = Math.sin(a) / p.scale;
  const tx = p.dx * w, ty = p.dy * h;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Pixel centres at +0.5; inverse rotation is the transpose.
      const ox = x + 0.5 - cx - tx, oy = y + 0.5 - cy - ty;
      const sx = cos * ox + sin * oy + cx - 0.5;
      const sy = -sin * ox + cos * oy + cy - 0.5;
      out[y * w + x] = bilinear(data, w, h, sx, sy, borderValue);
    }
  }
  return withData(img, out);
}

function bilinear(data: Float32Array, w: number, h: number, x: number, y: number, border: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const at = (xx: number, yy: number) => (xx >= 0 && yy >= 0 && xx < w && yy < h ? data[yy * w + xx]! : border);
  if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) return border;
  const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
  const bot = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bot * fy;
}
