// Typed errors for bad image input. The storage/RPC layer maps `code` straight onto a gRPC status:
// everything here is the caller's fault (bad bytes, unsupported encoding, limits exceeded), so INVALID_ARGUMENT.
// Messages name what was wrong and never include pixel data or patient-identifying values.

export class InvalidImageInputError extends Error {
  readonly code = 'INVALID_ARGUMENT' as const;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a decodable PNG/JPEG/DICOM image. */
export class ImageDecodeError extends InvalidImageInputError {}

/** Width, height or pixel count exceed the configured limits (decompression-bomb defence). */
export class ImageLimitError extends InvalidImageInputError {}

/** A DICOM transfer syntax we do not decode. `transferSyntax` is the UID; the message names it. */
export class UnsupportedTransferSyntaxError extends InvalidImageInputError {
  constructor(
    readonly transferSyntax: string,
    readonly transferSyntaxName: string,
  ) {
    super(`unsupported DICOM transfer syntax ${transferSyntax} (${transferSyntaxName}); supported: explicit/implicit VR little endian, explicit VR big endian, deflated explicit VR little endian, JPEG baseline (1.2.840.10008.1.2.4.50)`);
  }
}

/** Optional limits every decoder honours. */
export interface DecodeLimits {
  /** Largest accepted width or height in pixels (default 16384). */
  maxDimension?: number;
  /** Largest accepted width × height (default 100 megapixels). */
  maxPixels?: number;
}

export const DEFAULT_LIMITS: Required<DecodeLimits> = { maxDimension: 16384, maxPixels: 100_000_000 };

export function checkLimits(width: number, height: number, limits: DecodeLimits = {}): void {
  const maxDim = limits.maxDimension ?? DEFAULT_LIMITS.maxDimension;
  const maxPx = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageDecodeError(`invalid image dimensions ${width}x${height}`);
  }
  if (width > maxDim || height > maxDim) {
    throw new ImageLimitError(`image ${width}x${height} exceeds the limit of ${maxDim} px per side`);
  }
  if (width * height > maxPx) {
    throw new ImageLimitError(`image ${width}x${height} exceeds the limit of ${maxPx} pixels`);
  }
}
