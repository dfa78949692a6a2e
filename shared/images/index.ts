// shared/images: single-channel image type, codecs (PNG via png.ts, JPEG, DICOM), resampling, normalisation,
// seeded augmentations. See each module's header for the why.
export { createImage, withData, cloneImage, clampImage, fromUint8, fromUint16, toUint8, toUint16, toStoredPixels, type GrayImage, type BitDepth } from './image.js';
export {
  InvalidImageInputError, ImageDecodeError, ImageLimitError, UnsupportedTransferSyntaxError, checkLimits, DEFAULT_LIMITS, type DecodeLimits,
} from './errors.js';
export { createRng, type Rng, type Seed } from './rng.js';
export { resize, type ResizeFilter, type ResizeOptions } from './resize.js';
export { normalizeMinMax, normalizePercentile, standardize, meanStd } from './normalize.js';
export { decodeJpegGray, isJpeg } from './jpeg.js';
export { decodeDicom, isDicom, pseudonymize, applyWindow, type DicomImage, type DicomSafeMeta, type DicomDecodeOptions } from './dicom.js';
export { encodeGrayPng, decodeGrayPng } from './codec.js';
export * from './augment/index.js';
