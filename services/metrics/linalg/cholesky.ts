// Cholesky factorisation A = L Lᵀ of a symmetric positive-definite matrix (row-major, float64).
// Used by FID's covariance route as the cheap congruence: the eigenvalues of Σ₁Σ₂ equal those of the
// symmetric Lᵀ Σ₂ L (Σ₁ = L Lᵀ), just as they equal those of Σ₁^{1/2} Σ₂ Σ₁^{1/2}, at a third of the
// cost of the eigendecomposition behind Σ₁^{1/2}. Returns null when A is not numerically positive
// definite (a pivot ≤ n·ε·max diag), so the caller can fall back to the eigendecomposition, which
// handles semi-definite (rank-deficient) covariances exactly.
import type { Matrix } from './matrix.js';

export function cholesky(a: Matrix): Matrix | null {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError(`cholesky needs a square matrix, got ${a.rows}×${a.cols}`);
  const A = a.data;
  const L = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, A[i * n + i]!);
  const tol = n * Number.EPSILON * maxDiag;
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = A[rj + j]!;
    for (let k = 0; k < j; k++) s -= L[rj + k]! * L[rj + k]!;
    if (!(s > tol)) return null;
    const ljj = Math.sqrt(s);
    L[rj + j] = ljj;
    const inv = 1 / ljj;
    // rows below: L[i][j] = (A[i][j] − L[i][:j]·L[j][:j]) / L[j][j]; both rows are contiguous
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = A[ri + j]!;
      for (let k = 0; k < j; k++) t -= L[ri + k]! * L[rj + k]!;
      L[ri + j] = t * inv;
    }
  }
  return { rows: n, cols: n, data: L };
}
