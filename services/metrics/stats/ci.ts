// Summaries over repetitions and the change against a baseline with a 95% confidence interval.
// Welch's t (unequal variances) rather than Student's: augmented and baseline runs need not share a
// variance, and with the study's 5 repetitions per arm the Welch–Satterthwaite df is the honest one.
import { studentTQuantile, studentTTwoSided } from './special.js';

export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** sample SD (divisor n − 1); 0 when n = 1 */
  readonly sd: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) throw new RangeError('cannot summarise an empty list');
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`non-finite value in summary: ${v}`);
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd };
}

export interface WelchResult {
  /** mean(treatment) − mean(baseline) */
  readonly delta: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly confidence: number;
  readonly t: number;
  readonly df: number;
  /** two-sided */
  readonly pValue: number;
  readonly test: 'welch-t';
  /** true when both arms have zero variance: no t-test exists, p is 1 for no change and 0 otherwise */
  readonly degenerate: boolean;
}

export function welch(baseline: readonly number[], treatment: readonly number[], confidence = 0.95): WelchResult {
  if (baseline.length < 2 || treatment.length < 2) {
    throw new RangeError(`a Welch t-test needs at least 2 repetitions per arm, got ${baseline.length} baseline and ${treatment.length} treatment`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const a = summarize(baseline);
  const b = summarize(treatment);
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const delta = b.mean - a.mean;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    return { delta, ciLow: delta, ciHigh: delta, confidence, t: delta === 0 ? 0 : Math.sign(delta) * Infinity, df: a.n + b.n - 2, pValue: delta === 0 ? 1 : 0, test: 'welch-t', degenerate: true };
  }
  const df = (va + vb) ** 2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  const t = delta / se;
  const half = studentTQuantile(0.5 + confidence / 2, df) * se;
  return { delta, ciLow: delta - half, ciHigh: delta + half, confidence, t, df, pValue: studentTTwoSided(t, df), test: 'welch-t', degenerate: false };
}
