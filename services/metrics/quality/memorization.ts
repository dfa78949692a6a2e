// Memorization check: is any synthetic image a near-copy of a real training image?
// For each synthetic image we find its nearest real training image twice, independently: in feature
// space and in pixel space (Euclidean; pixel distances are RMS, i.e. in intensity units).
// One threshold must mean the same thing in both spaces, so it is RELATIVE: a synthetic image counts
// as "below threshold" when its nearest-real distance is under `threshold` × the median distance from
// a real training image to its nearest OTHER real training image in that space. A ratio near 0 is a
// copy; around 1 the synthetic image is as close to the training set as real images are to each other.
import { pairwiseDistances, row, squaredDistance, type Matrix } from '../linalg/matrix.js';

export interface MemorizationInput {
  readonly realFeatures: Matrix;
  readonly syntheticFeatures: Matrix;
  /** flattened pixels, one row per image, all at one size; optional */
  readonly realPixels?: Matrix;
  readonly syntheticPixels?: Matrix;
}

export interface MemorizationOptions {
  /** relative threshold (see above); default 0.5 */
  threshold?: number;
  /** how many closest pairs to return, by relative feature distance; default 10 */
  closest?: number;
}

export interface NearestReal {
  readonly synthetic: number;
  readonly realByFeature: number;
  readonly featureDistance: number;
  /** featureDistance / median real→real nearest-neighbour distance */
  readonly featureRatio: number;
  /** NaN when no pixels were given */
  readonly realByPixel: number;
  readonly pixelDistance: number;
  readonly pixelRatio: number;
  /** RMS pixel distance between this synthetic image and its feature-space neighbour (for the figure) */
  readonly pixelDistanceToFeatureNeighbour: number;
}

export interface MemorizationResult {
  readonly threshold: number;
  readonly shareBelowFeature: number;
  /** NaN when no pixels were given */
  readonly shareBelowPixel: number;
  readonly realNeighbourMedianFeature: number;
  readonly realNeighbourMedianPixel: number;
  readonly nearest: readonly NearestReal[];
  /** the `closest` smallest featureRatio entries, ascending */
  readonly closest: readonly NearestReal[];
}

interface Nearest {
  index: Int32Array;
  distance: Float64Array;
}

/**
 * The Gram-matrix distances are fast but lose digits for near-identical rows (√ of a rounding error
 * is ~1e-8, not 0), and near-identical is exactly what this check is about: the chosen neighbour's
 * distance is recomputed directly.
 */
function exactDistance(a: Matrix, i: number, b: Matrix, j: number): number {
  return Math.sqrt(squaredDistance(row(a, i), row(b, j)));
}

function nearestRows(dist: Matrix): Nearest {
  const index = new Int32Array(dist.rows);
  const distance = new Float64Array(dist.rows);
  for (let i = 0; i < dist.rows; i++) {
    let best = Infinity;
    let arg = -1;
    for (let j = 0; j < dist.cols; j++) {
      const v = dist.data[i * dist.cols + j]!;
      if (v < best) {
        best = v;
        arg = j;
      }
    }
    index[i] = arg;
    distance[i] = best;
  }
  return { index, distance };
}

/** Median over real images of the distance to their nearest other real image. */
function realNeighbourMedian(real: Matrix): number {
  const d = pairwiseDistances(real, real);
  const n = real.rows;
  const nn = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let j = 0; j < n; j++) if (j !== i) best = Math.min(best, d.data[i * n + j]!);
    nn[i] = best;
  }
  nn.sort();
  return n % 2 === 1 ? nn[(n - 1) / 2]! : 0.5 * (nn[n / 2 - 1]! + nn[n / 2]!);
}

export function memorization(input: MemorizationInput, options: MemorizationOptions = {}): MemorizationResult {
  const { realFeatures: rf, syntheticFeatures: sf, realPixels: rp, syntheticPixels: sp } = input;
  const threshold = options.threshold ?? 0.5;
  if (!(threshold > 0)) throw new RangeError(`memorization threshold must be > 0, got ${threshold}`);
  if (rf.rows < 2) throw new RangeError(`memorization needs at least 2 real training images, got ${rf.rows}`);
  if (sf.rows < 1) throw new RangeError('memorization needs at least 1 synthetic image');
  if (rf.cols !== sf.cols) throw new RangeError(`feature dimensions differ: real ${rf.cols}, synthetic ${sf.cols}`);
  const withPixels = rp !== undefined && sp !== undefined;
  if (withPixels) {
    if (rp.rows !== rf.rows || sp.rows !== sf.rows) throw new RangeError('pixel rows must match feature rows, one per image');
    if (rp.cols !== sp.cols) throw new RangeError(`pixel sizes differ: real ${rp.cols} values, synthetic ${sp.cols}`);
  }
  const medF = realNeighbourMedian(rf);
  const byFeature = nearestRows(pairwiseDistances(sf, rf));
  for (let s = 0; s < sf.rows; s++) byFeature.distance[s] = exactDistance(sf, s, rf, byFeature.index[s]!);
  let medP = NaN;
  let pixelDist: Matrix | null = null;
  let byPixel: Nearest | null = null;
  if (withPixels) {
    const rms = 1 / Math.sqrt(rp.cols);
    medP = realNeighbourMedian(rp) * rms;
    pixelDist = pairwiseDistances(sp, rp);
    for (let i = 0; i < pixelDist.data.length; i++) pixelDist.data[i]! *= rms;
    byPixel = nearestRows(pixelDist);
    for (let s = 0; s < sp.rows; s++) byPixel.distance[s] = exactDistance(sp, s, rp, byPixel.index[s]!) * rms;
  }
  const ratio = (d: number, med: number): number => (med > 0 ? d / med : d > 0 ? Infinity : 0);
  const nearest: NearestReal[] = [];
  let belowF = 0;
  let belowP = 0;
  for (let s = 0; s < sf.rows; s++) {
    const rF = byFeature.index[s]!;
    const featureRatio = ratio(byFeature.distance[s]!, medF);
    const pixelRatio = byPixel ? ratio(byPixel.distance[s]!, medP) : NaN;
    if (featureRatio < threshold) belowF++;
    if (pixelRatio < threshold) belowP++;
    nearest.push({
      synthetic: s,
      realByFeature: rF,
      featureDistance: byFeature.distance[s]!,
      featureRatio,
      realByPixel: byPixel ? byPixel.index[s]! : NaN,
      pixelDistance: byPixel ? byPixel.distance[s]! : NaN,
      pixelRatio,
      pixelDistanceToFeatureNeighbour: withPixels ? exactDistance(sp, s, rp, rF) / Math.sqrt(rp.cols) : NaN,
    });
  }
  const closest = [...nearest].sort((a, b) => a.featureRatio - b.featureRatio).slice(0, options.closest ?? 10);
  return {
    threshold,
    shareBelowFeature: belowF / sf.rows,
    shareBelowPixel: withPixels ? belowP / sf.rows : NaN,
    realNeighbourMedianFeature: medF,
    realNeighbourMedianPixel: medP,
    nearest,
    closest,
  };
}
