import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { summarize, welch } from '../../services/metrics/stats/ci.js';
import { midRanks, pearson, spearman } from '../../services/metrics/stats/correlation.js';
import { correlationTest } from '../../services/metrics/stats/permutation.js';
import { createRng, sampleWithoutReplacement } from '../../services/metrics/stats/rng.js';
import { betainc, studentTCdf, studentTQuantile } from '../../services/metrics/stats/special.js';

interface StatsReference {
  t_cdf: Array<{ t: number; df: number; cdf: number }>;
  t_ppf: Array<{ p: number; df: number; q: number }>;
  betainc: Array<{ a: number; b: number; x: number; value: number }>;
  welch: Array<{ baseline: number[]; treatment: number[]; t: number; p: number; df: number; diff: number; ci: [number, number] }>;
  correlation: Array<{ x: number[]; y: number[]; pearson: number; spearman: number }>;
}
const ref = JSON.parse(readFileSync(new URL('../fixtures/metrics/stats-reference.json', import.meta.url), 'utf8')) as StatsReference;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('special functions (vs scipy)', () => {
  it('regularised incomplete beta', () => {
    for (const c of ref.betainc) expect(rel(betainc(c.a, c.b, c.x), c.value), JSON.stringify(c)).toBeLessThan(1e-10);
    expect(betainc(2, 3, 0)).toBe(0);
    expect(betainc(2, 3, 1)).toBe(1);
  });

  it('Student-t CDF and quantile, including fractional df', () => {
    for (const c of ref.t_cdf) expect(rel(studentTCdf(c.t, c.df), c.cdf), JSON.stringify(c)).toBeLessThan(1e-9);
    for (const c of ref.t_ppf) expect(rel(studentTQuantile(c.p, c.df), c.q), JSON.stringify(c)).toBeLessThan(1e-9);
    // Cauchy (df = 1) in closed form
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 12);
  });
});

describe('Welch t-test and confidence interval (vs scipy)', () => {
  it('matches scipy.stats.ttest_ind(equal_var=False) and the t-quantile CI', () => {
    for (const c of ref.welch) {
      const r = welch(c.baseline, c.treatment);
      expect(rel(r.t, c.t)).toBeLessThan(1e-10);
      expect(rel(r.df, c.df)).toBeLessThan(1e-10);
      expect(rel(r.pValue, c.p)).toBeLessThan(1e-8);
      expect(rel(r.delta, c.diff)).toBeLessThan(1e-10);
      expect(rel(r.ciLow, c.ci[0])).toBeLessThan(1e-8);
      expect(rel(r.ciHigh, c.ci[1])).toBeLessThan(1e-8);
    }
  });

  it('covers the true difference about 95% of the time (known case, simulated)', () => {
    const rng = createRng(11);
    let covered = 0;
    const trials = 2000;
    for (let i = 0; i < trials; i++) {
      const a = Array.from({ length: 5 }, () => 78 + 1.2 * rng.normal());
      const b = Array.from({ length: 5 }, () => 79 + 2.5 * rng.normal());
      const r = welch(a, b);
      if (r.ciLow <= 1 && 1 <= r.ciHigh) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.975);
  });

  it('handles zero-variance arms and too few repetitions', () => {
    expect(welch([1, 1, 1], [1, 1])).toMatchObject({ pValue: 1, degenerate: true, delta: 0 });
    expect(welch([1, 1, 1], [2, 2])).toMatchObject({ pValue: 0, degenerate: true, delta: 1 });
    expect(() => welch([1], [1, 2])).toThrow(/at least 2 repetitions/);
    expect(summarize([2, 4, 4, 4, 5, 5, 7, 9])).toMatchObject({ n: 8, mean: 5 });
    expect(summarize([2, 4, 4, 4, 5, 5, 7, 9]).sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });
});

describe('correlation and permutation p-values', () => {
  it('Pearson and Spearman (with ties) match scipy', () => {
    for (const c of ref.correlation) {
      expect(pearson(c.x, c.y)).toBeCloseTo(c.pearson, 12);
      expect(spearman(c.x, c.y)).toBeCloseTo(c.spearman, 12);
    }
    expect(Array.from(midRanks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))).toBe(true);
  });

  it('is exact for small n: a perfect ranking of 5 has p = 2/120', () => {
    const t = correlationTest('spearman', [1, 2, 3, 4, 5], [10, 20, 30, 40, 50]);
    expect(t.kind).toBe('exact');
    expect(t.permutations).toBe(120);
    expect(t.pValue).toBeCloseTo(2 / 120, 12);
    expect(t.r).toBe(1);
  });

  it('gives a seeded Monte-Carlo p-value for larger n that is small for a real association and not for noise', () => {
    const rng = createRng(3);
    const x = Array.from({ length: 30 }, () => rng.normal());
    const y = x.map((v) => v + 0.5 * rng.normal());
    const strong = correlationTest('pearson', x, y, { permutations: 999, seed: 1 });
    expect(strong.kind).toBe('monte-carlo');
    expect(strong.pValue).toBeCloseTo(1 / 1000, 12); // no permutation beats it: (1 + 0)/(1 + 999)
    // for normal data the permutation p of Pearson's r approximates the parametric t-test p
    const other = createRng(21);
    const noise = x.map((v) => 0.3 * v + other.normal());
    const mc = correlationTest('pearson', x, noise, { permutations: 9999, seed: 1 });
    const t = mc.r * Math.sqrt(28 / (1 - mc.r * mc.r));
    const parametric = 2 * (1 - studentTCdf(Math.abs(t), 28));
    expect(parametric).toBeGreaterThan(0.02); // a borderline association, so the comparison is informative
    expect(Math.abs(mc.pValue - parametric)).toBeLessThan(0.02);
    expect(correlationTest('pearson', x, noise, { permutations: 9999, seed: 1 }).pValue).toBe(mc.pValue);
    expect(Array.from(sampleWithoutReplacement(5, 5, createRng(1))).sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
