// Permutation test for a correlation: under H0 (no association) every pairing of x with y is equally
// likely. With few pairs — the study has 5 generators — we enumerate all n! pairings, which is exact;
// otherwise we draw `permutations` random pairings from a seeded stream and use the (1 + hits)/(1 + B)
// estimate, which never reports p = 0. Two-sided: |r*| ≥ |r| counts, with a relative tolerance so that
// pairings giving the same r up to rounding count as ties.
import { correlation, type CorrelationMethod } from './correlation.js';
import { createRng, shuffleInPlace } from './rng.js';

export interface PermutationOptions {
  /** random pairings when enumeration is too big; default 9999 */
  permutations?: number;
  seed?: number;
}

export interface CorrelationTest {
  readonly method: CorrelationMethod;
  readonly r: number;
  readonly pValue: number;
  readonly n: number;
  /** 'exact' when all n! pairings were enumerated */
  readonly kind: 'exact' | 'monte-carlo';
  readonly permutations: number;
  readonly seed: number;
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/** Heap's algorithm: calls visit with each permutation of `a` (in place). */
function forEachPermutation(a: number[], visit: (p: readonly number[]) => void): void {
  const c = new Array<number>(a.length).fill(0);
  visit(a);
  let i = 0;
  while (i < a.length) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      visit(a);
      c[i]!++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

export function correlationTest(
  method: CorrelationMethod,
  x: readonly number[],
  y: readonly number[],
  options: PermutationOptions = {},
): CorrelationTest {
  const r = correlation(method, x, y);
  const n = x.length;
  const seed = options.seed ?? 0;
  const budget = options.permutations ?? 9999;
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`permutations must be a positive integer, got ${budget}`);
  if (Number.isNaN(r)) return { method, r, pValue: NaN, n, kind: 'exact', permutations: 0, seed };
  const target = Math.abs(r) * (1 - 1e-12);
  if (factorial(n) <= budget) {
    let hits = 0;
    let total = 0;
    forEachPermutation(Array.from(y), (p) => {
      total++;
      if (Math.abs(correlation(method, x, p)) >= target) hits++;
    });
    return { method, r, pValue: hits / total, n, kind: 'exact', permutations: total, seed };
  }
  const rng = createRng(seed);
  const perm = Array.from(y);
  let hits = 0;
  for (let b = 0; b < budget; b++) {
    shuffleInPlace(perm, rng);
    if (Math.abs(correlation(method, x, perm)) >= target) hits++;
  }
  return { method, r, pValue: (1 + hits) / (1 + budget), n, kind: 'monte-carlo', permutations: budget, seed };
}
