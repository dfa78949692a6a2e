// JPEG → grayscale. jpeg-js decodes baseline and progressive JPEG in pure JS; we ask for RGB(A) and take
// BT.601 luma, which for a single-component (grey) JPEG is the grey value itself. Limits stop decompression bombs
// before jpeg-js allocates.

import jpeg from 'jpeg-js';
import { createImage, type GrayImage } from './image.js';
import { checkLimits, DEFAULT_LIMITS, ImageDecodeError, ImageLimitError, type DecodeLimits } from './errors.js';

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export function decodeJpegGray(bytes: Uint8Array, limits: DecodeLimits = {}): GrayImage {
  if (!isJpeg(bytes)) throw new ImageDecodeError('not a JPEG (missing SOI marker)');
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 4) / 1e6)),
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/maxResolutionInMP|maxMemoryUsage/.test(msg)) throw new ImageLimitError(`JPEG exceeds limits: ${msg}`);
    throw new ImageDecodeError(`JPEG decode failed: ${msg}`);
  }
  checkLimits(decoded.width, decoded.height, limits);
  const n = decoded.width * decoded.height;
  const channels = decoded.data.length / n;
  if (channels !== 3 && channels !== 1) throw new ImageDecodeError(`JPEG decoded to ${channels} channels`);
  const out = new Float32Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) out[i] = decoded.data[i]! / 255;
  } else {
    for (let i = 0; i < n; i++) {
      const r = decoded.data[3 * i]!, g = decoded.data[3 * i + 1]!, b = decoded.data[3 * i + 2]!;
      out[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    }
  }
  return createImage(decoded.width, decoded.height, 8, out);
}
