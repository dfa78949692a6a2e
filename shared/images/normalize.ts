// Intensity normalisation. Real radiographs arrive with arbitrary exposure and windowing; classifiers and
// generators want a consistent range. All functions return new images/arrays and never modify their input.

import { withData, type GrayImage } from './image.js';

/** Linear stretch so the minimum maps to 0 and the maximum to 1 (a flat image becomes all zeros). */
export function normalizeMinMax(img: GrayImage): GrayImage {
  let lo = Infinity, hi = -Infinity;
  for (const v of img.data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const span = hi - lo;
  const out = new Float32Array(img.data.length);
  if (span > 0) for (let i = 0; i < out.length; i++) out[i] = (img.data[i]! - lo) / span;
  return withData(img, out);
}

/**
 * Robust stretch: the `lo` and `hi` percentiles (0–100) map to 0 and 1, values outside are clipped.
 * Resists burned-in markers and collimator edges that would dominate a min/max stretch.
 */
export function normalizePercentile(img: GrayImage, lo = 0.5, hi = 99.5): GrayImage {
  const sorted = Float32Array.from(img.data).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))]!;
  const a = at(lo), b = at(hi);
  const span = b - a;
  const out = new Float32Array(img.data.length);
  if (span > 0) {
    for (let i = 0; i < out.length; i++) {
      const v = (img.data[i]! - a) / span;
      out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return withData(img, out);
}

/**
 * Network input: (x − mean) / std as a plain Float32Array (values leave [0, 1], so it is no longer a GrayImage).
 * Defaults are the ImageNet grey statistics the study's timm models used (mean of the RGB means/stds).
 */
export function standardize(img: GrayImage, mean = 0.449, std = 0.226): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (img.data[i]! - mean) / std;
  return out;
}

export function meanStd(img: GrayImage): { mean: number; std: number } {
  let s = 0, s2 = 0;
  for (const v of img.data) { s += v; s2 += v * v; }
  const n = img.data.length;
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
}
