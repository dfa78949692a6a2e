// Bridges the project's float GrayImage and the storage PNG codec (shared/images/png.ts, integer samples):
// encode quantises at the image's own bit depth (8 or 16), decode keeps the file's depth. Lossless round trip for
// images that came from 8/16-bit data.

import { fromUint16, fromUint8, toUint16, toUint8, type GrayImage } from './image.js';
import { decodePng, encodePng, type PngLimits } from './png.js';

export function encodeGrayPng(img: GrayImage): Uint8Array {
  return img.bitDepth === 16
    ? encodePng({ width: img.width, height: img.height, bitDepth: 16, data: toUint16(img) })
    : encodePng({ width: img.width, height: img.height, bitDepth: 8, data: toUint8(img) });
}

export function decodeGrayPng(bytes: Uint8Array, limits?: Partial<PngLimits>): GrayImage {
  const png = decodePng(bytes, limits);
  return png.bitDepth === 16 ? fromUint16(png.width, png.height, png.data) : fromUint8(png.width, png.height, png.data);
}
