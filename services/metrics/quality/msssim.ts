// MS-SSIM (Wang, Simoncelli & Bovik 2003) and the study's diversity score: the mean MS-SSIM over all
// pairs of a generated set (50 images → 1225 pairs). Lower means more diverse.
//
// Standard parameters: 11-tap Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, data range 1 (our
// images are [0, 1]), "valid" filtering (no padding), 2 × 2 average pooling between scales, and the
// five published weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333].
// Small images: five scales need ≥ 176 px (11·2⁴), so we use the largest number of scales S ≤ 5 for
// which the coarsest scale is still at least the window (min side / 2^(S−1) ≥ 11) and renormalise the
// first S weights to sum to 1 — e.g. 32 px → 2 scales, 64 px → 3, 256 px → 5. Images under 11 px
// use one scale with the window shrunk to the largest odd size that fits (σ scaled with it).
// Negative contrast-structure terms are clamped to 0 before the fractional powers (as tf.image does),
// so the score stays real and in [0, 1].
import type { GrayImage } from '../../../shared/images/image.js';
import { createRng } from '../stats/rng.js';

export const MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;
const K1 = 0.01;
const K2 = 0.03;
const C1 = K1 * K1;
const C2 = K2 * K2;

export interface MsSsimPlan {
  readonly scales: number;
  readonly window: number;
  readonly sigma: number;
  /** weights actually used, renormalised to sum to 1 */
  readonly weights: readonly number[];
}

export function planScales(width: number, height: number, window = 11, maxScales = 5): MsSsimPlan {
  const side = Math.min(width, height);
  if (side < 1) throw new RangeError(`image too small for MS-SSIM: ${width}×${height}`);
  let scales = 0;
  while (scales < maxScales && Math.floor(side / 2 ** scales) >= window) scales++;
  let win = window;
  if (scales === 0) {
    scales = 1;
    win = side % 2 === 1 ? side : side - 1;
  }
  const raw = MS_SSIM_WEIGHTS.slice(0, scales);
  const total = raw.reduce((a, b) => a + b, 0);
  return { scales, window: win, sigma: (1.5 * win) / 11, weights: raw.map((w) => w / total) };
}

function gaussianTaps(size: number, sigma: number): Float64Array {
  const taps = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    taps[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    sum += taps[i]!;
  }
  for (let i = 0; i < size; i++) taps[i]! /= sum;
  return taps;
}

interface Plane {
  w: number;
  h: number;
  data: Float64Array;
}

/** Separable valid-mode filtering: output (w−k+1) × (h−k+1). */
function filterValid(p: Plane, taps: Float64Array): Plane {
  const k = taps.length;
  const ow = p.w - k + 1;
  const oh = p.h - k + 1;
  const tmp = new Float64Array(ow * p.h);
  for (let y = 0; y < p.h; y++) {
    const ro = y * p.w;
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += taps[t]! * p.data[ro + x + t]!;
      tmp[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let t = 0; t < k; t++) {
      const wt = taps[t]!;
      const ro = (y + t) * ow;
      for (let x = 0; x < ow; x++) out[y * ow + x]! += wt * tmp[ro + x]!;
    }
  }
  return { w: ow, h: oh, data: out };
}

function downsample(p: Plane): Plane {
  const w = Math.floor(p.w / 2);
  const h = Math.floor(p.h / 2);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * p.w + 2 * x;
      out[y * w + x] = 0.25 * (p.data[i]! + p.data[i + 1]! + p.data[i + p.w]! + p.data[i + p.w + 1]!);
    }
  }
  return { w, h, data: out };
}

function multiply(a: Plane, b: Plane): Plane {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i]! * b.data[i]!;
  return { w: a.w, h: a.h, data: out };
}

/** What one image contributes at each scale, computed once and reused across all its pairs. */
interface Prepared {
  planes: Plane[];
  mu: Plane[];
  /** E[x²] under the window */
  ex2: Plane[];
}

function prepare(img: GrayImage, plan: MsSsimPlan, taps: Float64Array): Prepared {
  let p: Plane = { w: img.width, h: img.height, data: Float64Array.from(img.data) };
  const planes: Plane[] = [];
  const mu: Plane[] = [];
  const ex2: Plane[] = [];
  for (let s = 0; s < plan.scales; s++) {
    if (s > 0) p = downsample(p);
    planes.push(p);
    mu.push(filterValid(p, taps));
    ex2.push(filterValid(multiply(p, p), taps));
  }
  return { planes, mu, ex2 };
}

function msssimPrepared(a: Prepared, b: Prepared, plan: MsSsimPlan, taps: Float64Array): number {
  let result = 1;
  for (let s = 0; s < plan.scales; s++) {
    const exy = filterValid(multiply(a.planes[s]!, b.planes[s]!), taps).data;
    const mx = a.mu[s]!.data;
    const my = b.mu[s]!.data;
    const xx = a.ex2[s]!.data;
    const yy = b.ex2[s]!.data;
    let csSum = 0;
    let ssimSum = 0;
    const last = s === plan.scales - 1;
    for (let i = 0; i < exy.length; i++) {
      const ux = mx[i]!;
      const uy = my[i]!;
      const vx = xx[i]! - ux * ux;
      const vy = yy[i]! - uy * uy;
      const cxy = exy[i]! - ux * uy;
      const cs = (2 * cxy + C2) / (vx + vy + C2);
      csSum += cs;
      if (last) ssimSum += (cs * (2 * ux * uy + C1)) / (ux * ux + uy * uy + C1);
    }
    const term = (last ? ssimSum : csSum) / exy.length;
    result *= Math.max(0, term) ** plan.weights[s]!;
  }
  return result;
}

function checkSameSize(images: readonly GrayImage[]): void {
  const first = images[0]!;
  images.forEach((img, i) => {
    if (img.width !== first.width || img.height !== first.height) {
      throw new RangeError(`MS-SSIM needs images of one size: image 0 is ${first.width}×${first.height}, image ${i} is ${img.width}×${img.height}`);
    }
  });
}

export function msssim(a: GrayImage, b: GrayImage): number {
  checkSameSize([a, b]);
  const plan = planScales(a.width, a.height);
  const taps = gaussianTaps(plan.window, plan.sigma);
  return msssimPrepared(prepare(a, plan, taps), prepare(b, plan, taps), plan, taps);
}

export interface DiversityResult {
  /** mean MS-SSIM over the pairs; lower = more diverse */
  readonly mean: number;
  readonly sd: number;
  readonly pairs: number;
  readonly n: number;
  readonly plan: MsSsimPlan;
}

export interface DiversityOptions {
  /** cap on pairs; when the set has more, this many distinct pairs are drawn (seeded) */
  maxPairs?: number;
  seed?: number;
}

/** Mean MS-SSIM over all unordered pairs of a set (or a seeded sample of maxPairs of them). */
export function msssimDiversity(images: readonly GrayImage[], options: DiversityOptions = {}): DiversityResult {
  if (images.length < 2) throw new RangeError(`MS-SSIM diversity needs at least 2 images, got ${images.length}`);
  checkSameSize(images);
  const n = images.length;
  const plan = planScales(images[0]!.width, images[0]!.height);
  const taps = gaussianTaps(plan.window, plan.sigma);
  const prepared = images.map((img) => prepare(img, plan, taps));
  const total = (n * (n - 1)) / 2;
  let pairs: Array<[number, number]> = [];
  if (options.maxPairs === undefined || options.maxPairs >= total) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  } else {
    const rng = createRng(options.seed ?? 0);
    const seen = new Set<number>();
    while (pairs.length < options.maxPairs) {
      const i = rng.int(n);
      const j = rng.int(n);
      if (i === j) continue;
      const [lo, hi] = i < j ? [i, j] : [j, i];
      if (seen.has(lo * n + hi)) continue;
      seen.add(lo * n + hi);
      pairs.push([lo, hi]);
    }
  }
  const values = pairs.map(([i, j]) => msssimPrepared(prepared[i]!, prepared[j]!, plan, taps));
  pairs = [];
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, pairs: values.length, n, plan };
}
