import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eigh, eigvalsh } from '../../services/metrics/linalg/eigh.js';
import { fromRows, gram, matrix, type Matrix } from '../../services/metrics/linalg/matrix.js';
import { fid, fidFromStats, gaussianStats, traceSqrtProduct, type GaussianStats } from '../../services/metrics/quality/fid.js';
import { cholesky } from '../../services/metrics/linalg/cholesky.js';
import { createRng } from '../../services/metrics/stats/rng.js';

interface FidCase {
  name: string;
  real: number[][];
  fake: number[][];
  fid: number;
}
const reference = JSON.parse(
  readFileSync(new URL('../fixtures/metrics/fid-reference.json', import.meta.url), 'utf8'),
) as { cases: FidCase[] };

function randomSpd(n: number, seed: number): Matrix {
  const rng = createRng(seed);
  const x = matrix(n, n);
  for (let i = 0; i < n * n; i++) x.data[i] = rng.normal();
  return gram(x, x);
}

function stats(mean: number[], cov: number[][]): GaussianStats {
  return { n: Infinity, mean: Float64Array.from(mean), cov: fromRows(cov) };
}

/** rows ~ N(mean, L Lᵀ) */
function sample(n: number, mean: number[], l: number[][], seed: number): Matrix {
  const rng = createRng(seed);
  const d = mean.length;
  const out = matrix(n, d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) z[k] = rng.normal();
    for (let r = 0; r < d; r++) {
      let s = mean[r]!;
      for (let k = 0; k < d; k++) s += l[r]![k]! * z[k]!;
      out.data[i * d + r] = s;
    }
  }
  return out;
}

describe('eigh', () => {
  it('reconstructs a symmetric matrix and returns orthonormal eigenvectors', () => {
    for (const n of [1, 2, 3, 7, 33]) {
      const a = randomSpd(n, n);
      const { values, vectorsT } = eigh(a);
      const v = vectorsT.data;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let rec = 0;
          let dot = 0;
          for (let k = 0; k < n; k++) {
            rec += values[k]! * v[k * n + i]! * v[k * n + j]!;
            dot += v[i * n + k]! * v[j * n + k]!;
          }
          expect(rec).toBeCloseTo(a.data[i * n + j]!, 9);
          expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
        }
      }
      for (let i = 1; i < n; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
      const only = eigvalsh(a);
      for (let i = 0; i < n; i++) expect(only[i]!).toBeCloseTo(values[i]!, 9);
    }
  });

  it('finds known eigenvalues, including repeated and zero ones', () => {
    // diag(3,3,0,−1) rotated by a Householder reflection: eigenvalues survive any orthogonal change of basis
    const u = [0.5, -0.5, 0.5, 0.5];
    const h = u.map((ui, i) => u.map((uj, j) => (i === j ? 1 : 0) - 2 * ui * uj));
    const dvals = [3, 3, 0, -1];
    const a = h.map((hi) => h.map((_, j) => dvals.reduce((s, dk, k) => s + hi[k]! * dk * h[j]![k]!, 0)));
    const values = eigvalsh(fromRows(a));
    expect(Array.from(values).map((x) => Number(x.toFixed(12)))).toEqual([-1, 0, 3, 3]);
  });

  it('rejects non-symmetric and non-finite input', () => {
    expect(() => eigh(fromRows([[1, 2], [0, 1]]))).toThrow(/not symmetric/);
    expect(() => eigvalsh(fromRows([[1, NaN], [NaN, 1]]))).toThrow(/non-finite/);
  });
});

describe('FID', () => {
  it('equals the closed form for Gaussians with diagonal covariances', () => {
    // commuting covariances: FID = |μ₁−μ₂|² + Σ (√a − √b)²
    const r = fidFromStats(stats([0, 1, 2], [[4, 0, 0], [0, 1, 0], [0, 0, 9]]), stats([1, 1, 0], [[1, 0, 0], [0, 1, 0], [0, 0, 16]]));
    expect(r.fid).toBeCloseTo(1 + 4 + (2 - 1) ** 2 + 0 + (3 - 4) ** 2, 12);
    expect(r.meanTerm).toBeCloseTo(5, 12);
  });

  it('equals the closed form for non-commuting 2 × 2 covariances', () => {
    // for 2×2 PSD: tr √(Σ₁Σ₂) = √(tr(Σ₁Σ₂) + 2√(det Σ₁ det Σ₂))
    const s1 = [[2, 0.8], [0.8, 1]];
    const s2 = [[1, -0.3], [-0.3, 3]];
    const tr12 = s1[0]![0]! * s2[0]![0]! + s1[0]![1]! * s2[1]![0]! + s1[1]![0]! * s2[0]![1]! + s1[1]![1]! * s2[1]![1]!;
    const det1 = 2 * 1 - 0.64;
    const det2 = 3 - 0.09;
    const expected = 0.5 ** 2 + 2 ** 2 + 3 + 4 - 2 * Math.sqrt(tr12 + 2 * Math.sqrt(det1 * det2));
    const r = fidFromStats(stats([0, 0], s1), stats([0.5, -2], s2));
    expect(r.fid).toBeCloseTo(expected, 12);
  });

  it('handles a singular covariance (a degenerate Gaussian) without going negative or NaN', () => {
    const r = fidFromStats(stats([0, 0], [[1, 1], [1, 1]]), stats([0, 0], [[1, 1], [1, 1]]));
    expect(r.fid).toBeCloseTo(0, 10);
    const zero = fidFromStats(stats([0, 0], [[0, 0], [0, 0]]), stats([3, 4], [[0, 0], [0, 0]]));
    expect(zero.fid).toBe(25);
  });

  it('converges to the population value on large samples of known Gaussians', () => {
    const l1 = [[1, 0, 0], [0.5, 1, 0], [0.2, -0.3, 0.7]];
    const l2 = [[1.5, 0, 0], [0, 0.5, 0], [0.4, 0.1, 1]];
    const cov = (l: number[][]) => l.map((li) => l.map((lj) => li.reduce((s, v, k) => s + v * lj[k]!, 0)));
    const population = fidFromStats(stats([0, 0, 0], cov(l1)), stats([1, 0, -1], cov(l2))).fid;
    const r = fid(sample(20000, [0, 0, 0], l1, 1), sample(20000, [1, 0, -1], l2, 2));
    expect(r.nReal).toBe(20000);
    expect(r.nFake).toBe(20000);
    expect(r.dim).toBe(3);
    expect(Math.abs(r.fid - population) / population).toBeLessThan(0.03);
  });

  it('agrees with the scipy sqrtm reference to 1e-6 relative', () => {
    for (const c of reference.cases) {
      const r = fid(fromRows(c.real), fromRows(c.fake));
      expect(r.route).toBe('covariance');
      const viaEigh = fidFromStats(gaussianStats(fromRows(c.real)), gaussianStats(fromRows(c.fake)), 'eigh').fid;
      if (c.fid > 1e-3) expect(Math.abs(viaEigh - c.fid) / c.fid, `${c.name} (eigh)`).toBeLessThan(1e-6);
      if (c.fid > 1e-3) expect(Math.abs(r.fid - c.fid) / c.fid, c.name).toBeLessThan(1e-6);
      else expect(Math.abs(r.fid - c.fid), c.name).toBeLessThan(1e-9);
      expect(r.nReal).toBe(c.real.length);
    }
  });

  it('gives the same value on the Gram route (n < d) as on the covariance route', () => {
    const rng = createRng(5);
    const real = matrix(20, 48);
    const fake = matrix(25, 48);
    for (let i = 0; i < real.data.length; i++) real.data[i] = rng.normal();
    for (let i = 0; i < fake.data.length; i++) fake.data[i] = 0.8 * rng.normal() + 0.2;
    const g = fid(real, fake);
    const c = fid(real, fake, 'covariance');
    expect(g.route).toBe('gram');
    expect(Math.abs(g.fid - c.fid) / c.fid).toBeLessThan(1e-9);
    const swapped = fid(fake, real);
    expect(Math.abs(swapped.fid - c.fid) / c.fid).toBeLessThan(1e-9);
  });

  it('gives the same tr √(Σ₁Σ₂) through Σ₁^{1/2} (eigh) and through Cholesky, and falls back on singular Σ₁', () => {
    const s1 = randomSpd(30, 101);
    const s2 = randomSpd(30, 102);
    const viaEigh = traceSqrtProduct(s1, s2, 'eigh');
    expect(Math.abs(traceSqrtProduct(s1, s2, 'cholesky') - viaEigh) / viaEigh).toBeLessThan(1e-11);
    const singular = gaussianStats(matrix(10, 30, Array.from({ length: 300 }, (_, i) => Math.sin(i * 0.37)))).cov;
    expect(cholesky(singular)).toBeNull();
    expect(() => traceSqrtProduct(singular, s2, 'cholesky')).toThrow(/not positive definite/);
    expect(traceSqrtProduct(singular, s2)).toBeCloseTo(traceSqrtProduct(singular, s2, 'eigh'), 12);
    const l = cholesky(s1)!;
    for (let i = 0; i < 30; i++) for (let j = 0; j < 30; j++) {
      let s = 0;
      for (let k = 0; k < 30; k++) s += l.data[i * 30 + k]! * l.data[j * 30 + k]!;
      expect(s).toBeCloseTo(s1.data[i * 30 + j]!, 9);
    }
  });

  it('rejects n < 2 and mismatched dimensions', () => {
    expect(() => fid(matrix(1, 3), matrix(4, 3))).toThrow(/at least 2/);
    expect(() => fid(matrix(4, 3), matrix(4, 2))).toThrow(/dimensions differ/);
  });
});
