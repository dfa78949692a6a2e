import { describe, expect, it } from 'vitest';
import { fromRows, matrix, type Matrix } from '../../services/metrics/linalg/matrix.js';
import { cubicKernel, kid } from '../../services/metrics/quality/kid.js';
import { prdc } from '../../services/metrics/quality/prdc.js';
import { createRng, shuffleInPlace } from '../../services/metrics/stats/rng.js';

function gaussian(n: number, d: number, seed: number, shift = 0, scale = 1): Matrix {
  const rng = createRng(seed);
  const x = matrix(n, d);
  for (let i = 0; i < x.data.length; i++) x.data[i] = shift + scale * rng.normal();
  return x;
}

function permuteRows(x: Matrix, seed: number): Matrix {
  const order = Array.from({ length: x.rows }, (_, i) => i);
  shuffleInPlace(order, createRng(seed));
  return fromRows(order.map((r) => x.data.subarray(r * x.cols, (r + 1) * x.cols)));
}

describe('KID', () => {
  it('matches a hand-computed tiny case', () => {
    // d = 1, k(x,y) = (xy + 1)³: Kxx off-diagonal 1, Kyy 343, Kxy {1, 1, 27, 64}
    const r = kid(fromRows([[0], [1]]), fromRows([[2], [3]]), { subsetSize: 2, subsets: 1 });
    expect(r.mean).toBeCloseTo(1 + 343 - (2 * 93) / 4, 10);
    expect(r.std).toBe(0);
    expect(cubicKernel(fromRows([[1, 1]]), fromRows([[2, 4]])).data[0]).toBe(64); // (6/2 + 1)³
  });

  it('is unbiased: two samples of one distribution average ≈ 0, while a shifted sample is clearly positive', () => {
    const estimates: number[] = [];
    for (let rep = 0; rep < 40; rep++) {
      estimates.push(kid(gaussian(40, 8, 100 + rep), gaussian(40, 8, 500 + rep), { subsets: 1, seed: rep }).mean);
    }
    const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
    const sd = Math.sqrt(estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (estimates.length - 1));
    const se = sd / Math.sqrt(estimates.length);
    expect(Math.abs(mean)).toBeLessThan(3 * se);
    // the biased V-statistic (diagonal included) would sit near +2·E[k(x,x)−k(x,y)]/m; ours must not
    expect(estimates.some((e) => e < 0)).toBe(true);
    const shifted = kid(gaussian(40, 8, 1), gaussian(40, 8, 2, 0.7), { subsets: 1 }).mean;
    expect(shifted).toBeGreaterThan(10 * se);
  });

  it('is invariant to the order of the features and symmetric in its arguments (full subsets)', () => {
    const x = gaussian(30, 5, 3);
    const y = gaussian(25, 5, 4, 0.3);
    // with subset size = n every subset is the whole set, so the estimate is exact and order-free
    const x25 = fromRows(Array.from({ length: 25 }, (_, i) => x.data.subarray(i * 5, i * 5 + 5)));
    const full = kid(x25, y, { subsetSize: 25, subsets: 1 });
    const permuted = kid(permuteRows(x25, 11), permuteRows(y, 12), { subsetSize: 25, subsets: 1 });
    const swapped = kid(y, x25, { subsetSize: 25, subsets: 1 });
    expect(permuted.mean).toBeCloseTo(full.mean, 12);
    expect(swapped.mean).toBeCloseTo(full.mean, 12);
    expect(full.nReal).toBe(25);
    expect(kid(x, y, { subsetSize: 25, subsets: 1 }).nReal).toBe(30);
  });

  it('is deterministic for a seed and reports mean ± SD over subsets', () => {
    const x = gaussian(60, 4, 5);
    const y = gaussian(50, 4, 6, 0.2);
    const r1 = kid(x, y, { subsetSize: 20, subsets: 30, seed: 42 });
    const r2 = kid(x, y, { subsetSize: 20, subsets: 30, seed: 42 });
    expect(Array.from(r1.values)).toEqual(Array.from(r2.values));
    expect(r1.std).toBeGreaterThan(0);
    const mean = r1.values.reduce((a, b) => a + b, 0) / 30;
    expect(r1.mean).toBeCloseTo(mean, 12);
    expect(kid(x, y, { subsetSize: 20, subsets: 30, seed: 43 }).mean).not.toBe(r1.mean);
  });

  it('rejects a subset larger than n, n < 2 and mismatched dimensions', () => {
    expect(() => kid(gaussian(10, 3, 1), gaussian(8, 3, 2), { subsetSize: 9 })).toThrow(/exceeds the smaller set.*≤ 8/);
    expect(() => kid(gaussian(1, 3, 1), gaussian(8, 3, 2))).toThrow(/at least 2/);
    expect(() => kid(gaussian(5, 3, 1), gaussian(5, 2, 2))).toThrow(/dimensions differ/);
  });
});

describe('precision / recall / density / coverage', () => {
  it('matches a hand-worked 1-D case (k = 1)', () => {
    // real radii all 1; fake {0.5, 2.2} lie on the real manifold, {10, 11} do not
    const r = prdc(fromRows([[0], [1], [2], [3]]), fromRows([[0.5], [2.2], [10], [11]]), 1);
    expect(r).toMatchObject({ precision: 0.5, recall: 1, density: 1, coverage: 1, k: 1 });
  });

  it('separates fidelity from diversity on constructed clouds (k = 3)', () => {
    const real = matrix(200, 2);
    const rng = createRng(8);
    for (let i = 0; i < real.data.length; i++) real.data[i] = rng.next();
    const same = prdc(real, real);
    expect(same).toMatchObject({ precision: 1, recall: 1, coverage: 1, k: 3 });

    const far = fromRows(Array.from({ length: 50 }, (_, i) => [10 + i * 0.01, 10]));
    expect(prdc(real, far)).toMatchObject({ precision: 0, recall: 0, density: 0, coverage: 0 });

    // mode collapse: copies of the real points with x < 0.5 only → perfect fidelity, half the diversity
    const left: number[][] = [];
    for (let i = 0; i < 200; i++) if (real.data[2 * i]! < 0.5) left.push([real.data[2 * i]!, real.data[2 * i + 1]!]);
    const collapsed = prdc(real, fromRows(left));
    expect(collapsed.precision).toBe(1);
    expect(collapsed.coverage).toBeGreaterThan(0.4);
    expect(collapsed.coverage).toBeLessThan(0.65);
    expect(collapsed.recall).toBeGreaterThan(0.4);
    expect(collapsed.recall).toBeLessThan(0.7);
  });

  it('rejects sets no larger than k', () => {
    expect(() => prdc(matrix(3, 2), matrix(10, 2))).toThrow(/more than 3 points/);
  });
});
