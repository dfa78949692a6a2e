// Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimator of the squared MMD with
// the cubic polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets.
// Unlike FID it has no bias in n, so it is the number to compare on the small sets of this study.
// Subsets are drawn without replacement, independently for each side, from a seeded stream;
// the reported SD is the population SD over subsets (np.std, as torch-fidelity reports it).
import { gram, type Matrix } from '../linalg/matrix.js';
import { createRng, sampleWithoutReplacement } from '../stats/rng.js';

export interface KidOptions {
  /** features per side in each subset; default min(1000, nReal, nFake); must be ≤ both n */
  subsetSize?: number;
  /** number of subsets; default 100 */
  subsets?: number;
  seed?: number;
}

export interface KidResult {
  readonly mean: number;
  readonly std: number;
  readonly subsetSize: number;
  readonly subsets: number;
  readonly nReal: number;
  readonly nFake: number;
  readonly dim: number;
  readonly seed: number;
  /** one MMD² estimate per subset */
  readonly values: Float64Array;
}

/** Kernel matrices above this many entries are computed per subset instead of once (memory). */
const PRECOMPUTE_LIMIT = 16e6;

/** k(x, y) = (x·y/d + 1)³ for every row pair, in place over the Gram matrix. */
export function cubicKernel(a: Matrix, b: Matrix): Matrix {
  const k = gram(a, b);
  const inv = 1 / a.cols;
  for (let i = 0; i < k.data.length; i++) {
    const t = k.data[i]! * inv + 1;
    k.data[i] = t * t * t;
  }
  return k;
}

/**
 * Unbiased MMD² of the samples selected by ix (rows of X) and iy (rows of Y), given kernel matrices:
 *   Σ_{i≠j} k(xᵢ,xⱼ)/(m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ)/(m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ)/m².
 */
export function mmd2Unbiased(kxx: Matrix, kyy: Matrix, kxy: Matrix, ix: Int32Array, iy: Int32Array): number {
  const m = ix.length;
  if (m < 2 || iy.length !== m) throw new RangeError(`MMD² needs two index sets of equal size ≥ 2, got ${m} and ${iy.length}`);
  const offDiag = (k: Matrix, idx: Int32Array): number => {
    let s = 0;
    for (let a = 0; a < m; a++) {
      const ro = idx[a]! * k.cols;
      for (let b = 0; b < m; b++) if (a !== b) s += k.data[ro + idx[b]!]!;
    }
    return s;
  };
  let sxy = 0;
  for (let a = 0; a < m; a++) {
    const ro = ix[a]! * kxy.cols;
    for (let b = 0; b < m; b++) sxy += kxy.data[ro + iy[b]!]!;
  }
  return (offDiag(kxx, ix) + offDiag(kyy, iy)) / (m * (m - 1)) - (2 * sxy) / (m * m);
}

function selectRows(x: Matrix, idx: Int32Array): Matrix {
  const out = new Float64Array(idx.length * x.cols);
  idx.forEach((r, i) => out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return { rows: idx.length, cols: x.cols, data: out };
}

export function kid(real: Matrix, fake: Matrix, options: KidOptions = {}): KidResult {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, synthetic ${fake.cols}`);
  if (real.rows < 2 || fake.rows < 2) {
    throw new RangeError(`KID needs at least 2 feature vectors per set, got ${real.rows} real and ${fake.rows} synthetic`);
  }
  const nMin = Math.min(real.rows, fake.rows);
  const m = options.subsetSize ?? Math.min(1000, nMin);
  if (!Number.isInteger(m) || m < 2) throw new RangeError(`KID subset size must be an integer ≥ 2, got ${m}`);
  if (m > nMin) {
    throw new RangeError(
      `KID subset size ${m} exceeds the smaller set (real ${real.rows}, synthetic ${fake.rows}); use a subset size ≤ ${nMin}`,
    );
  }
  const subsets = options.subsets ?? 100;
  if (!Number.isInteger(subsets) || subsets < 1) throw new RangeError(`KID subsets must be a positive integer, got ${subsets}`);
  const seed = options.seed ?? 0;
  const rng = createRng(seed);
  const values = new Float64Array(subsets);
  const precompute = Math.max(real.rows, fake.rows) ** 2 <= PRECOMPUTE_LIMIT;
  if (precompute) {
    const kxx = cubicKernel(real, real);
    const kyy = cubicKernel(fake, fake);
    const kxy = cubicKernel(real, fake);
    for (let s = 0; s < subsets; s++) {
      const ix = sampleWithoutReplacement(real.rows, m, rng);
      const iy = sampleWithoutReplacement(fake.rows, m, rng);
      values[s] = mmd2Unbiased(kxx, kyy, kxy, ix, iy);
    }
  } else {
    const identity = Int32Array.from({ length: m }, (_, i) => i);
    for (let s = 0; s < subsets; s++) {
      const x = selectRows(real, sampleWithoutReplacement(real.rows, m, rng));
      const y = selectRows(fake, sampleWithoutReplacement(fake.rows, m, rng));
      values[s] = mmd2Unbiased(cubicKernel(x, x), cubicKernel(y, y), cubicKernel(x, y), identity, identity);
    }
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= subsets;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return {
    mean,
    std: Math.sqrt(ss / subsets),
    subsetSize: m,
    subsets,
    nReal: real.rows,
    nFake: fake.rows,
    dim: real.cols,
    seed,
    values,
  };
}
