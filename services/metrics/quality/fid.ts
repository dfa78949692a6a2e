// Fréchet Inception Distance between two feature sets, in float64.
//   FID = |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^{1/2}
// The usual reference computes scipy.linalg.sqrtm(Σ₁Σ₂) of a non-symmetric product, which can go
// complex or lose digits. We use the symmetric form instead: the eigenvalues of Σ₁Σ₂ equal those of
// Σ₁^{1/2} Σ₂ Σ₁^{1/2}, which is symmetric PSD, so tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ with tiny negative λ
// (rounding) clamped to 0. Σ₁^{1/2} comes from a symmetric eigendecomposition of Σ₁.
//
// Two routes, same number (tests check they agree):
//  - 'covariance': from means and covariances: O(d³). The congruence is Cholesky (Lᵀ Σ₂ L, Σ₁ = LLᵀ)
//    when Σ₁ is positive definite, else the eigendecomposition route above (see traceSqrtProduct).
//  - 'gram': from the raw features when n < d (the usual case: 1000 images, 2048-d). With
//    A = X̃₁/√(n₁−1), B = X̃₂/√(n₂−1) (centred rows), Σ₁Σ₂ = AᵀA BᵀB has the same non-zero eigenvalues
//    as (BAᵀ)(BAᵀ)ᵀ, so tr (Σ₁Σ₂)^{1/2} is the sum of singular values of the n₂ × n₁ matrix BAᵀ.
// FID is biased in n and only comparable at equal n, so every result carries both n.
import { cholesky } from '../linalg/cholesky.js';
import { eigh, eigvalsh } from '../linalg/eigh.js';
import { columnMeans, centered, covariance, gram, matmul, type Matrix, trace, transpose } from '../linalg/matrix.js';

export interface GaussianStats {
  readonly n: number;
  readonly mean: Float64Array;
  /** d × d sample covariance (divisor n − 1) */
  readonly cov: Matrix;
}

export interface FidResult {
  readonly fid: number;
  readonly nReal: number;
  readonly nFake: number;
  readonly dim: number;
  /** |μ₁ − μ₂|² */
  readonly meanTerm: number;
  /** tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2} */
  readonly covTerm: number;
  readonly route: 'covariance' | 'gram';
}

export function gaussianStats(features: Matrix): GaussianStats {
  if (features.rows < 2) throw new RangeError(`FID needs at least 2 feature vectors per set, got ${features.rows}`);
  const mean = columnMeans(features);
  return { n: features.rows, mean, cov: covariance(features, mean) };
}

/**
 * Eigenvalues below d·ε·λmax are rounding noise of a rank-deficient matrix (n < d is the norm), and
 * √noise is not small (√1e-16 = 1e-8), so they count as exactly 0 rather than merely clamping negatives.
 */
function noiseFloor(values: Float64Array): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return values.length * Number.EPSILON * max;
}

function sumSqrtClamped(values: Float64Array): number {
  const floor = noiseFloor(values);
  let s = 0;
  for (const v of values) if (v > floor) s += Math.sqrt(v);
  return s;
}

export type SqrtMethod = 'auto' | 'eigh' | 'cholesky';

/**
 * tr (Σ₁Σ₂)^{1/2}. Two exact congruences of Σ₁Σ₂'s eigenproblem, both symmetric PSD:
 *  - 'eigh': Σ₁ = V Λ Vᵀ, Y = Λ₊^{1/2} V₊ᵀ (rows for λ above the noise floor); Y Σ₂ Yᵀ is
 *    Σ₁^{1/2} Σ₂ Σ₁^{1/2} in Σ₁'s eigenbasis. Handles singular Σ₁.
 *  - 'cholesky': Σ₁ = L Lᵀ, Lᵀ Σ₂ L. About 3× cheaper; needs Σ₁ positive definite.
 * 'auto' tries Cholesky and falls back to eigh when Σ₁ is (numerically) singular.
 */
export function traceSqrtProduct(s1: Matrix, s2: Matrix, method: SqrtMethod = 'auto'): number {
  const d = s1.rows;
  if (s1.cols !== d || s2.rows !== d || s2.cols !== d) {
    throw new RangeError(`covariances must both be d × d, got ${s1.rows}×${s1.cols} and ${s2.rows}×${s2.cols}`);
  }
  if (method !== 'eigh') {
    const l = cholesky(s1);
    if (l !== null) {
      const lt = transpose(l); // upper triangular: matmul skips its zeros
      const m = gram(matmul(lt, s2), lt); // (Lᵀ Σ₂) L
      symmetrize(m);
      return sumSqrtClamped(eigvalsh(m));
    }
    if (method === 'cholesky') throw new RangeError('Σ₁ is not positive definite; use the eigh method');
  }
  return traceSqrtEigh(s1, s2);
}

function traceSqrtEigh(s1: Matrix, s2: Matrix): number {
  const d = s1.rows;
  const { values, vectorsT } = eigh(s1);
  const floor = noiseFloor(values);
  const keep: number[] = [];
  for (let i = 0; i < d; i++) if (values[i]! > floor) keep.push(i);
  const r = keep.length;
  if (r === 0) return 0;
  const y = new Float64Array(r * d);
  keep.forEach((src, dst) => {
    const s = Math.sqrt(values[src]!);
    for (let k = 0; k < d; k++) y[dst * d + k] = s * vectorsT.data[src * d + k]!;
  });
  const Y: Matrix = { rows: r, cols: d, data: y };
  const m = gram(matmul(Y, s2), Y);
  symmetrize(m);
  return sumSqrtClamped(eigvalsh(m));
}

function symmetrize(m: Matrix): void {
  const n = m.rows;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (m.data[i * n + j]! + m.data[j * n + i]!);
      m.data[i * n + j] = v;
      m.data[j * n + i] = v;
    }
  }
}

function meanTerm(m1: Float64Array, m2: Float64Array): number {
  let s = 0;
  for (let i = 0; i < m1.length; i++) s += (m1[i]! - m2[i]!) ** 2;
  return s;
}

function checkDims(d1: number, d2: number): void {
  if (d1 !== d2) throw new RangeError(`feature dimensions differ: real ${d1}, synthetic ${d2}`);
}

export function fidFromStats(real: GaussianStats, fake: GaussianStats, method: SqrtMethod = 'auto'): FidResult {
  checkDims(real.mean.length, fake.mean.length);
  const mt = meanTerm(real.mean, fake.mean);
  const covTerm = trace(real.cov) + trace(fake.cov) - 2 * traceSqrtProduct(real.cov, fake.cov, method);
  return {
    fid: Math.max(0, mt + covTerm),
    nReal: real.n,
    nFake: fake.n,
    dim: real.mean.length,
    meanTerm: mt,
    covTerm,
    route: 'covariance',
  };
}

/** Sum of squares of a matrix's entries, i.e. tr(XᵀX). */
function frob2(x: Matrix): number {
  let s = 0;
  for (const v of x.data) s += v * v;
  return s;
}

/** FID from raw features; picks the cheaper exact route. */
export function fid(real: Matrix, fake: Matrix, route?: 'covariance' | 'gram'): FidResult {
  checkDims(real.cols, fake.cols);
  if (real.rows < 2 || fake.rows < 2) {
    throw new RangeError(`FID needs at least 2 feature vectors per set, got ${real.rows} real and ${fake.rows} synthetic`);
  }
  const d = real.cols;
  const chosen = route ?? (Math.max(real.rows, fake.rows) < d ? 'gram' : 'covariance');
  if (chosen === 'covariance') return fidFromStats(gaussianStats(real), gaussianStats(fake));
  const mu1 = columnMeans(real);
  const mu2 = columnMeans(fake);
  const a = centered(real, mu1);
  const b = centered(fake, mu2);
  const n1 = real.rows - 1;
  const n2 = fake.rows - 1;
  // C = B Aᵀ / √(n₁ n₂); singular values² = eigenvalues of the smaller of C Cᵀ, Cᵀ C
  const c = fake.rows <= real.rows ? gram(b, a) : gram(a, b);
  const cct = gram(c, c);
  const s = 1 / (n1 * n2);
  for (let i = 0; i < cct.data.length; i++) cct.data[i]! *= s;
  const trSqrt = sumSqrtClamped(eigvalsh(cct));
  const mt = meanTerm(mu1, mu2);
  const covTerm = frob2(a) / n1 + frob2(b) / n2 - 2 * trSqrt;
  return { fid: Math.max(0, mt + covTerm), nReal: real.rows, nFake: fake.rows, dim: d, meanTerm: mt, covTerm, route: 'gram' };
}
