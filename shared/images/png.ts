// PNG probing, validation, decoding and encoding for single-channel (grayscale) images.
//
// Untrusted bytes go through three gates, cheapest first, so a hostile upload costs little:
//   1. probePng     reads only the signature and IHDR: size, bit depth, colour type; limits on bytes and pixels.
//   2. validatePng  walks every chunk (CRC, order) and inflates the image data with a hard output cap equal to the
//                   size the header promises, so a decompression bomb fails before it can allocate more than that.
//   3. decodePng    only after 1 and 2: decodes with fast-png and converts to 8- or 16-bit grayscale.
// Every failure is an InvalidImageError with a machine-readable reason; the RPC layer maps it to INVALID_ARGUMENT.
import { crc32, inflateSync } from 'node:zlib';
import { decode as fastDecode, encode as fastEncode, type DecodedPng } from 'fast-png';
import { InvalidImageInputError } from './errors.js';

export type InvalidImageReason =
  | 'empty'
  | 'too_large' // more bytes than limits.maxBytes
  | 'too_many_pixels' // header claims more than limits.maxPixels
  | 'not_png' // signature missing
  | 'corrupt' // structure, CRC or compressed data broken
  | 'unsupported'; // valid PNG, but not something we accept (e.g. colour where grayscale is required)

/** A PNG that is corrupt, unsupported or over a limit; `reason` says which (storage reports it to callers). */
export class InvalidImageError extends InvalidImageInputError {
  constructor(
    readonly reason: InvalidImageReason,
    message: string,
  ) {
    super(message);
  }
}

export interface PngLimits {
  /** Largest accepted encoded size in bytes. */
  maxBytes: number;
  /** Largest accepted width × height, checked from the header before anything is inflated. */
  maxPixels: number;
}

/** Generous for radiographs (the study's raw images are about 3000×2500), small enough to stop bombs. */
export const DEFAULT_PNG_LIMITS: Readonly<PngLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxPixels: 50_000_000,
});

/** PNG colour types (PNG spec 11.2.2). */
export const PngColorType = {
  GRAY: 0,
  RGB: 2,
  PALETTE: 3,
  GRAY_ALPHA: 4,
  RGBA: 6,
} as const;
export type PngColorType = (typeof PngColorType)[keyof typeof PngColorType];

export interface PngInfo {
  width: number;
  height: number;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  colorType: PngColorType;
  /** Samples per pixel: 1 gray/palette, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  interlaced: boolean;
}

/** A decoded single-channel image; rows top to bottom, `data.length === width * height`. */
export type GrayImage =
  | { width: number; height: number; bitDepth: 8; data: Uint8Array }
  | { width: number; height: number; bitDepth: 16; data: Uint16Array };

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const MAX_DIMENSION = 0x7fffffff; // PNG spec: 2^31 - 1
const COLOR_NAMES: Record<number, string> = { 0: 'grayscale', 2: 'RGB', 3: 'palette', 4: 'grayscale+alpha', 6: 'RGBA' };
const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function fail(reason: InvalidImageReason, message: string): never {
  throw new InvalidImageError(reason, message);
}

function resolveLimits(limits?: Partial<PngLimits>): PngLimits {
  return { ...DEFAULT_PNG_LIMITS, ...limits };
}

/** Reads the signature and IHDR only. Cheap: never inflates. Enforces byte and pixel limits. */
export function probePng(bytes: Uint8Array, limits?: Partial<PngLimits>): PngInfo {
  const { maxBytes, maxPixels } = resolveLimits(limits);
  if (bytes.byteLength === 0) fail('empty', 'image is empty (0 bytes)');
  if (bytes.byteLength > maxBytes) {
    fail('too_large', `image is ${bytes.byteLength} bytes; the limit is ${maxBytes} bytes`);
  }
  if (bytes.byteLength < SIGNATURE.length || !SIGNATURE.every((b, i) => bytes[i] === b)) {
    fail('not_png', 'not a PNG: the 8-byte PNG signature is missing');
  }
  // Signature (8) + IHDR length (4) + type (4) + data (13) + CRC (4).
  if (bytes.byteLength < 33) fail('corrupt', 'corrupt PNG: truncated before the end of the IHDR chunk');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || chunkType(bytes, 12) !== 'IHDR') {
    fail('corrupt', 'corrupt PNG: the first chunk must be a 13-byte IHDR');
  }
  if (crc32(bytes.subarray(12, 29)) !== view.getUint32(29)) fail('corrupt', 'corrupt PNG: IHDR checksum mismatch');
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24]!;
  const colorType = bytes[25]!;
  const compression = bytes[26]!;
  const filter = bytes[27]!;
  const interlace = bytes[28]!;
  if (width === 0 || height === 0 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    fail('corrupt', `corrupt PNG: invalid dimensions ${width}×${height}`);
  }
  const depths = ALLOWED_DEPTHS[colorType];
  if (depths === undefined) fail('corrupt', `corrupt PNG: unknown colour type ${colorType}`);
  if (!depths.includes(bitDepth)) {
    fail('corrupt', `corrupt PNG: bit depth ${bitDepth} is not allowed for colour type ${COLOR_NAMES[colorType]}`);
  }
  if (compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) {
    fail('corrupt', 'corrupt PNG: unknown compression, filter or interlace method');
  }
  // Checked before any inflation: this is the decompression-bomb guard.
  if (width * height > maxPixels) {
    fail('too_many_pixels', `image claims ${width}×${height} = ${width * height} pixels; the limit is ${maxPixels}`);
  }
  return {
    width,
    height,
    bitDepth: bitDepth as PngInfo['bitDepth'],
    colorType: colorType as PngColorType,
    channels: CHANNELS[colorType]!,
    interlaced: interlace === 1,
  };
}

/**
 * Full structural check without unfiltering pixels: every chunk's CRC, chunk order, and the inflated image data is
 * exactly the size the header implies (inflation is capped at that size, so bombs stop early).
 * Returns the header info. Pass `requireGray` to accept only 8- or 16-bit grayscale, the format storage keeps.
 */
export function validatePng(
  bytes: Uint8Array,
  options: { limits?: Partial<PngLimits>; requireGray?: boolean } = {},
): PngInfo {
  const info = probePng(bytes, options.limits);
  if (options.requireGray && (info.colorType !== PngColorType.GRAY || (info.bitDepth !== 8 && info.bitDepth !== 16))) {
    fail(
      'unsupported',
      `expected an 8- or 16-bit grayscale PNG, got ${info.bitDepth}-bit ${COLOR_NAMES[info.colorType]}; convert it to grayscale first`,
    );
  }
  const idat = collectImageData(bytes, info);
  const expected = rawDataSize(info);
  let raw: Buffer;
  try {
    raw = inflateSync(idat, { maxOutputLength: expected });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      fail('corrupt', `corrupt PNG: image data inflates to more than the ${expected} bytes its header implies`);
    }
    fail('corrupt', `corrupt PNG: image data does not inflate (${(err as Error).message})`);
  }
  if (raw.byteLength !== expected) {
    fail('corrupt', `corrupt PNG: image data inflates to ${raw.byteLength} bytes, expected ${expected}`);
  }
  return info;
}

/** Decodes any valid PNG (after validatePng) to grayscale: colour is reduced to luma, alpha dropped, palettes mapped. */
export function decodePng(bytes: Uint8Array, limits?: Partial<PngLimits>): GrayImage {
  const info = validatePng(bytes, { limits });
  let png: DecodedPng;
  try {
    png = fastDecode(bytes, { checkCrc: false }); // CRCs were checked by validatePng
  } catch (err) {
    fail('corrupt', `corrupt PNG: ${(err as Error).message}`);
  }
  return toGray(png, info);
}

/** Encodes a grayscale image as a non-interlaced PNG (8- or 16-bit). Deterministic: same pixels, same bytes. */
export function encodePng(image: GrayImage): Uint8Array {
  const { width, height, bitDepth, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: invalid size ${width}×${height}`);
  }
  if (data.length !== width * height) {
    throw new RangeError(`encodePng: data has ${data.length} samples, expected ${width}×${height} = ${width * height}`);
  }
  if ((bitDepth === 8 && !(data instanceof Uint8Array)) || (bitDepth === 16 && !(data instanceof Uint16Array))) {
    throw new TypeError(`encodePng: ${bitDepth}-bit images need a ${bitDepth === 8 ? 'Uint8Array' : 'Uint16Array'}`);
  }
  return fastEncode({ width, height, data, depth: bitDepth, channels: 1 });
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Walks the chunks after IHDR, checks CRCs and ordering, returns the concatenated IDAT payload. */
function collectImageData(bytes: Uint8Array, info: PngInfo): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = 33;
  let sawPalette = false;
  let idatState: 'before' | 'in' | 'after' = 'before';
  for (;;) {
    if (pos + 12 > bytes.byteLength) fail('corrupt', 'corrupt PNG: truncated (no IEND chunk)');
    const length = view.getUint32(pos);
    const type = chunkType(bytes, pos + 4);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > bytes.byteLength) {
      fail('corrupt', `corrupt PNG: chunk ${JSON.stringify(type)} runs past the end of the data`);
    }
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== view.getUint32(pos + 8 + length)) {
      fail('corrupt', `corrupt PNG: checksum mismatch in chunk ${JSON.stringify(type)}`);
    }
    if (type === 'IDAT') {
      if (idatState === 'after') fail('corrupt', 'corrupt PNG: IDAT chunks are not consecutive');
      if (info.colorType === PngColorType.PALETTE && !sawPalette) fail('corrupt', 'corrupt PNG: palette image without PLTE');
      idatState = 'in';
      parts.push(bytes.subarray(pos + 8, pos + 8 + length));
      total += length;
    } else {
      if (idatState === 'in') idatState = 'after';
      if (type === 'IHDR') fail('corrupt', 'corrupt PNG: more than one IHDR chunk');
      if (type === 'PLTE') sawPalette = true;
      if (type === 'IEND') break;
    }
    pos = end;
  }
  if (total === 0) fail('corrupt', 'corrupt PNG: no image data (IDAT)');
  if (parts.length === 1) return parts[0]!;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    joined.set(p, offset);
    offset += p.byteLength;
  }
  return joined;
}

/** Size of the filtered scanlines (one filter byte per row), for plain or Adam7-interlaced images. */
function rawDataSize(info: PngInfo): number {
  const rowBytes = (w: number) => 1 + Math.ceil((w * info.channels * info.bitDepth) / 8);
  if (!info.interlaced) return info.height * rowBytes(info.width);
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  let size = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = info.width > x0 ? Math.ceil((info.width - x0) / dx) : 0;
    const h = info.height > y0 ? Math.ceil((info.height - y0) / dy) : 0;
    if (w > 0 && h > 0) size += h * rowBytes(w);
  }
  return size;
}

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes) into one value per pixel. */
function unpackSamples(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)]!;
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

// ITU-R BT.601 luma, integer weights summing to 1000 (deterministic across platforms).
const luma = (r: number, g: number, b: number) => Math.round((299 * r + 587 * g + 114 * b) / 1000);

function toGray(png: DecodedPng, info: PngInfo): GrayImage {
  const { width, height } = info;
  const n = width * height;
  const depth = info.bitDepth;
  if (info.colorType === PngColorType.PALETTE) {
    const palette = png.palette;
    if (!palette) fail('corrupt', 'corrupt PNG: palette image without PLTE');
    const indexes = depth === 8 ? (png.data as Uint8Array) : unpackSamples(png.data as Uint8Array, width, height, depth);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const entry = palette[indexes[i]!];
      if (!entry) fail('corrupt', `corrupt PNG: palette index ${indexes[i]} out of range`);
      out[i] = luma(entry[0]!, entry[1]!, entry[2]!);
    }
    return { width, height, bitDepth: 8, data: out };
  }
  if (depth < 8) {
    const samples = unpackSamples(png.data as Uint8Array, width, height, depth);
    const scale = 255 / ((1 << depth) - 1);
    for (let i = 0; i < n; i++) samples[i] = Math.round(samples[i]! * scale);
    return { width, height, bitDepth: 8, data: samples };
  }
  const src = png.data;
  const ch = info.channels;
  const out = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  if (ch === 1) out.set(src);
  else if (ch === 2) for (let i = 0; i < n; i++) out[i] = src[i * 2]!; // drop alpha: radiographs carry none
  else for (let i = 0; i < n; i++) out[i] = luma(src[i * ch]!, src[i * ch + 1]!, src[i * ch + 2]!);
  return depth === 16
    ? { width, height, bitDepth: 16, data: out as Uint16Array }
    : { width, height, bitDepth: 8, data: out as Uint8Array };
}
