// The one image type the project passes around: single-channel (grayscale), row-major,
// intensities as float32 in [0, 1] (0 = black). Float keeps transforms simple and exact enough;
// `bitDepth` records how many bits the image carries so it is stored back losslessly (8- or 16-bit PNG).

import { InvalidImageInputError } from './errors.js';

export type BitDepth = 8 | 16;

export interface GrayImage {
  readonly width: number;
  readonly height: number;
  /** Row-major intensities in [0, 1]; length width × height. */
  readonly data: Float32Array;
  /** Bits per sample when quantised for storage. */
  readonly bitDepth: BitDepth;
}

export function createImage(width: number, height: number, bitDepth: BitDepth = 8, data?: Float32Array): GrayImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidImageInputError(`invalid image size ${width}x${height}`);
  }
  const buf = data ?? new Float32Array(width * height);
  if (buf.length !== width * height) {
    throw new InvalidImageInputError(`pixel buffer has ${buf.length} values, expected ${width * height}`);
  }
  return { width, height, data: buf, bitDepth };
}

/** Same geometry and depth, new pixels. */
export function withData(img: GrayImage, data: Float32Array): GrayImage {
  return createImage(img.width, img.height, img.bitDepth, data);
}

export function cloneImage(img: GrayImage): GrayImage {
  return withData(img, new Float32Array(img.data));
}

export function fromUint8(width: number, height: number, pixels: ArrayLike<number>): GrayImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (pixels[i] ?? 0) / 255;
  return createImage(width, height, 8, data);
}

export function fromUint16(width: number, height: number, pixels: ArrayLike<number>): GrayImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (pixels[i] ?? 0) / 65535;
  return createImage(width, height, 16, data);
}

/** Quantise to 8 bits, rounding to nearest and clamping to [0, 1] first. */
export function toUint8(img: GrayImage): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = quantise(img.data[i]!, 255);
  return out;
}

export function toUint16(img: GrayImage): Uint16Array {
  const out = new Uint16Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = quantise(img.data[i]!, 65535);
  return out;
}

/** Pixels at the image's own bit depth (what a PNG encoder wants). */
export function toStoredPixels(img: GrayImage): Uint8Array | Uint16Array {
  return img.bitDepth === 16 ? toUint16(img) : toUint8(img);
}

function quantise(v: number, max: number): number {
  if (!(v > 0)) return 0; // also maps NaN to 0
  if (v >= 1) return max;
  return Math.round(v * max);
}

export function clampImage(img: GrayImage): GrayImage {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]!;
    out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
  }
  return withData(img, out);
}
