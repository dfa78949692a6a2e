// Pearson and Spearman correlation (the study's "image quality vs classification gain" across
// generators). Spearman is Pearson on mid-ranks, so ties get the average of the ranks they span,
// exactly as scipy.stats.spearmanr does.

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`correlation needs paired samples, got ${x.length} and ${y.length}`);
  if (n < 2) throw new RangeError(`correlation needs at least 2 pairs, got ${n}`);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN; // a constant variable has no correlation
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based mid-ranks: tied values share the mean of their positions. */
export function midRanks(values: readonly number[]): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  return ranks;
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new RangeError(`correlation needs paired samples, got ${x.length} and ${y.length}`);
  return pearson(Array.from(midRanks(x)), Array.from(midRanks(y)));
}

export type CorrelationMethod = 'pearson' | 'spearman';

export function correlation(method: CorrelationMethod, x: readonly number[], y: readonly number[]): number {
  return method === 'pearson' ? pearson(x, y) : spearman(x, y);
}
