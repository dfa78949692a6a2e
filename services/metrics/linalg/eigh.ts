// Symmetric eigendecomposition in float64: Householder tridiagonalisation, then implicit QL with
// Wilkinson-style shifts (the EISPACK tred2/tql2 pair, as in JAMA). Both stages are O(n³) with
// small constants, so a 2048 × 2048 covariance takes seconds-to-tens-of-seconds in plain JS, where
// Jacobi sweeps would take minutes. Eigenvectors are held as ROWS (vectorsT) so that every
// rotation and every reflector touches contiguous memory.
import type { Matrix } from './matrix.js';

export interface Eigh {
  /** ascending, like numpy.linalg.eigh */
  readonly values: Float64Array;
  /** n × n; row i is the unit eigenvector for values[i] */
  readonly vectorsT: Matrix;
}

interface Tridiagonal {
  diag: Float64Array;
  /** sub[i] = T[i+1][i]; sub[n−1] = 0 */
  sub: Float64Array;
  /** Householder vectors: reflector k acts on indices k+1..n−1 */
  reflectors: Float64Array[];
  betas: Float64Array;
}

function checkSymmetric(a: Matrix): void {
  if (a.rows !== a.cols) throw new RangeError(`eigh needs a square matrix, got ${a.rows}×${a.cols}`);
  const n = a.rows;
  const d = a.data;
  let scale = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!Number.isFinite(v)) throw new RangeError('eigh: matrix has a non-finite entry');
    scale = Math.max(scale, Math.abs(v));
  }
  const tol = 1e-10 * (scale || 1);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(d[i * n + j]! - d[j * n + i]!) > tol) {
        throw new RangeError(`eigh: matrix is not symmetric at (${i}, ${j})`);
      }
    }
  }
}

/** Reduces a symmetric matrix to tridiagonal T = Qᵀ A Q, Q = H₀ H₁ … H_{n−3}. */
function tridiagonalize(input: Matrix): Tridiagonal {
  const n = input.rows;
  const A = Float64Array.from(input.data);
  const diag = new Float64Array(n);
  const sub = new Float64Array(n);
  const reflectors: Float64Array[] = [];
  const betas = new Float64Array(Math.max(0, n - 2));
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const m = n - k - 1;
    const off = k * n + k + 1; // row k, columns k+1.. — equal to column k by symmetry
    let norm2 = 0;
    for (let i = 0; i < m; i++) norm2 += A[off + i]! * A[off + i]!;
    diag[k] = A[k * n + k]!;
    const x0 = A[off]!;
    const v = new Float64Array(m);
    reflectors.push(v);
    const tail2 = norm2 - x0 * x0;
    if (tail2 <= 0 || norm2 === 0) {
      // already tridiagonal in this column: identity reflector
      sub[k] = x0;
      betas[k] = 0;
      continue;
    }
    const alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    for (let i = 0; i < m; i++) v[i] = A[off + i]!;
    v[0] = x0 - alpha;
    const vv = v[0]! * v[0]! + tail2;
    const beta = 2 / vv;
    betas[k] = beta;
    sub[k] = alpha;
    // trailing block B = A[k+1:, k+1:]; B ← H B H = B − v wᵀ − w vᵀ, w = p − (β/2)(pᵀv) v, p = β B v.
    // Only the upper triangle (j ≥ i) of B is kept valid: p is accumulated from it row by row
    // (each stored entry feeds p[i] and p[j]) and only it is updated — half the work of the full form,
    // and every access still runs along a row.
    const base = k + 1;
    p.fill(0, 0, m);
    for (let i = 0; i < m; i++) {
      const ro = (base + i) * n + base;
      const vi = v[i]!;
      let si = A[ro + i]! * vi;
      for (let j = i + 1; j < m; j++) {
        const aij = A[ro + j]!;
        si += aij * v[j]!;
        p[j] = p[j]! + aij * vi;
      }
      p[i] = p[i]! + si;
    }
    let pv = 0;
    for (let i = 0; i < m; i++) {
      p[i] = beta * p[i]!;
      pv += p[i]! * v[i]!;
    }
    const kk = 0.5 * beta * pv;
    for (let i = 0; i < m; i++) p[i] = p[i]! - kk * v[i]!; // p is now w
    for (let i = 0; i < m; i++) {
      const ro = (base + i) * n + base;
      const vi = v[i]!;
      const wi = p[i]!;
      for (let j = i; j < m; j++) A[ro + j] = A[ro + j]! - vi * p[j]! - wi * v[j]!;
    }
  }
  if (n >= 2) {
    diag[n - 2] = A[(n - 2) * n + n - 2]!;
    sub[n - 2] = A[(n - 2) * n + n - 1]!; // upper triangle: the only half kept current
  }
  if (n >= 1) diag[n - 1] = A[(n - 1) * n + n - 1]!;
  sub[Math.max(0, n - 1)] = 0;
  return { diag, sub, reflectors, betas };
}

/**
 * Implicit QL on a symmetric tridiagonal matrix (in place: d becomes the eigenvalues).
 * When zt is given (n × n, rows = vectors), the rotations are accumulated into its rows.
 */
function tql(d: Float64Array, e: Float64Array, zt: Float64Array | null): void {
  const n = d.length;
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('eigh: QL iteration did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (zt !== null) {
            const ri = i * n;
            const rj = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const zh = zt[rj + k]!;
              const zi = zt[ri + k]!;
              zt[rj + k] = s * zi + c * zh;
              zt[ri + k] = c * zi - s * zh;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** Eigenvalues only (ascending). O(n³) for the reduction, O(n²) for QL. */
export function eigvalsh(a: Matrix): Float64Array {
  checkSymmetric(a);
  const t = tridiagonalize(a);
  tql(t.diag, t.sub, null);
  return t.diag.sort();
}

/** Full symmetric eigendecomposition: A = Σ λᵢ vᵢ vᵢᵀ. */
export function eigh(a: Matrix): Eigh {
  checkSymmetric(a);
  const n = a.rows;
  const t = tridiagonalize(a);
  const zt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) zt[i * n + i] = 1;
  tql(t.diag, t.sub, zt);
  // back-transform each eigenvector of T: v = H₀ (H₁ (… H_{n−3} z))
  for (let r = 0; r < n; r++) {
    const ro = r * n;
    for (let k = t.reflectors.length - 1; k >= 0; k--) {
      const beta = t.betas[k]!;
      if (beta === 0) continue;
      const v = t.reflectors[k]!;
      const base = ro + k + 1;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * zt[base + i]!;
      s *= beta;
      if (s === 0) continue;
      for (let i = 0; i < v.length; i++) zt[base + i] = zt[base + i]! - s * v[i]!;
    }
  }
  // sort ascending, permuting rows with the values
  const order = Array.from(t.diag.keys()).sort((i, j) => t.diag[i]! - t.diag[j]!);
  const values = new Float64Array(n);
  const sorted = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = t.diag[src]!;
    sorted.set(zt.subarray(src * n, (src + 1) * n), dst * n);
  });
  return { values, vectorsT: { rows: n, cols: n, data: sorted } };
}
