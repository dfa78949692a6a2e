// Between the project's float image (image.ts) and the lossless PNG that storage keeps (png.ts):
// quantised at the image's own bit depth on the way out, scaled back to [0, 1] on the way in.
import { fromUint16, fromUint8, toStoredPixels, type GrayImage } from './image.js';
import { decodePng, encodePng, type PngLimits } from './png.js';

export function encodeGrayPng(image: GrayImage): Uint8Array {
  const data = toStoredPixels(image);
  return data instanceof Uint16Array
    ? encodePng({ width: image.width, height: image.height, bitDepth: 16, data })
    : encodePng({ width: image.width, height: image.height, bitDepth: 8, data });
}

export function decodeGrayPng(bytes: Uint8Array, limits?: Partial<PngLimits>): GrayImage {
  const png = decodePng(bytes, limits);
  return png.bitDepth === 16 ? fromUint16(png.width, png.height, png.data) : fromUint8(png.width, png.height, png.data);
}
