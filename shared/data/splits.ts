// Leak-free dataset splits: stratified by finding, grouped by patient (all of a patient's images land in the same
// split, so a model is never tested on a patient it trained on), seeded.
//
// Algorithm, per finding: the patients of that finding are shuffled with the seed and then ordered by image count,
// largest first; each patient goes to the split whose image count is furthest below its target (fraction × the
// finding's images). Big groups placed early leave single-image patients to fill the last gaps, so every split
// ends within one image of its target whenever enough single-image patients exist. A short local search then moves
// or swaps patients between splits while that lowers the squared error, which repairs the rare case where early big
// groups overshoot. A patient whose images carry different findings is stratified by its most frequent finding.

import { createRng, type Seed } from '../images/rng.js';
import { DatasetInputError, FINDINGS, emptyCounts, type Finding, type FindingCounts } from './findings.js';

export interface SplitItem {
  id: string;
  patientId: string;
  finding: Finding;
}

export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

export interface SplitOptions {
  /** Fraction of each finding's images for validation (default 0.1). */
  val?: number;
  /** Fraction for test (default 0.2). The study used val 0, test 0.2 (865 / 217). */
  test?: number;
  seed?: Seed;
}

interface Group {
  patientId: string;
  ids: string[];
}

function groupsByFinding(items: readonly SplitItem[]): Map<Finding, Group[]> {
  const byPatient = new Map<string, SplitItem[]>();
  const seenIds = new Set<string>();
  for (const it of items) {
    if (seenIds.has(it.id)) throw new DatasetInputError(`duplicate image id '${it.id}' in split input`);
    seenIds.add(it.id);
    const list = byPatient.get(it.patientId);
    if (list) list.push(it); else byPatient.set(it.patientId, [it]);
  }
  const out = new Map<Finding, Group[]>(FINDINGS.map((f) => [f, []]));
  // Patients in a stable order (by id) so the result depends only on the seed, not on input order.
  for (const pid of [...byPatient.keys()].sort()) {
    const imgs = byPatient.get(pid)!;
    const tally = emptyCounts();
    for (const it of imgs) tally[it.finding]++;
    const major = FINDINGS.reduce((best, f) => (tally[f] > tally[best] ? f : best), FINDINGS[0]);
    out.get(major)!.push({ patientId: pid, ids: imgs.map((i) => i.id).sort() });
  }
  return out;
}

/** Assign patient groups to `targets.length` bins with the given fractions. Returns the bin index per group. */
function assignGroups(groups: Group[], fractions: readonly number[], rng: ReturnType<typeof createRng>): number[] {
  const order = rng.shuffle(groups.map((_, i) => i));
  // Stable sort by size (desc) after the seeded shuffle: ties stay in random order.
  order.sort((a, b) => groups[b]!.ids.length - groups[a]!.ids.length);
  const total = groups.reduce((s, g) => s + g.ids.length, 0);
  const target = fractions.map((f) => f * total);
  const count = fractions.map(() => 0);
  const bin = new Array<number>(groups.length).fill(-1);
  for (const gi of order) {
    let best = 0;
    for (let k = 1; k < fractions.length; k++) if (target[k]! - count[k]! > target[best]! - count[best]!) best = k;
    bin[gi] = best;
    count[best]! += groups[gi]!.ids.length;
  }
  // Local search: single moves and pairwise swaps that reduce Σ(count − target)².
  const err = () => count.reduce((s, c, k) => s + (c - target[k]!) ** 2, 0);
  for (let iter = 0; iter < 200; iter++) {
    let improved = false;
    const base = err();
    for (let gi = 0; gi < groups.length && !improved; gi++) {
      const n = groups[gi]!.ids.length, from = bin[gi]!;
      for (let to = 0; to < fractions.length; to++) {
        if (to === from || fractions[to] === 0) continue;
        count[from]! -= n; count[to]! += n;
        if (err() < base - 1e-9) { bin[gi] = to; improved = true; break; }
        count[from]! += n; count[to]! -= n;
      }
    }
    // Pairwise swaps are quadratic: only for classes of moderate size (big classes end within one image anyway,
    // since they have many single-image patients for the greedy pass to finish with).
    for (let gi = 0; gi < groups.length && !improved && groups.length <= 2000; gi++) {
      for (let gj = gi + 1; gj < groups.length && !improved; gj++) {
        const bi = bin[gi]!, bj = bin[gj]!;
        const ni = groups[gi]!.ids.length, nj = groups[gj]!.ids.length;
        if (bi === bj || ni === nj) continue;
        count[bi]! += nj - ni; count[bj]! += ni - nj;
        if (err() < base - 1e-9) { bin[gi] = bj; bin[gj] = bi; improved = true; break; }
        count[bi]! -= nj - ni; count[bj]! -= ni - nj;
      }
    }
    if (!improved) break;
  }
  return bin;
}

function checkFraction(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0 || v >= 1) throw new DatasetInputError(`--${name} must be a fraction in [0, 1), got ${v}`);
}

/** Train / validation / test split. Returns the split of every image id. */
export function splitDataset(items: readonly SplitItem[], options: SplitOptions = {}): Map<string, SplitName> {
  const val = options.val ?? 0.1, test = options.test ?? 0.2;
  checkFraction('val', val);
  checkFraction('test', test);
  if (val + test >= 1) throw new DatasetInputError(`val + test must be below 1 (got ${val} + ${test}); nothing would be left to train on`);
  const rng = createRng(options.seed ?? 0);
  const fractions = [1 - val - test, val, test];
  const out = new Map<string, SplitName>();
  for (const [f, groups] of groupsByFinding(items)) {
    const bins = assignGroups(groups, fractions, rng.fork(`split/${f}`));
    groups.forEach((g, i) => { for (const id of g.ids) out.set(id, SPLIT_NAMES[bins[i]!]!); });
  }
  return out;
}

/** k-fold cross-validation: the fold (0…k−1) of every image id; fold i is the test set of round i. */
export function kFoldSplit(items: readonly SplitItem[], options: { k: number; seed?: Seed }): Map<string, number> {
  const { k } = options;
  if (!Number.isInteger(k) || k < 2 || k > 100) throw new DatasetInputError(`--folds must be an integer from 2 to 100, got ${k}`);
  const rng = createRng(options.seed ?? 0);
  const out = new Map<string, number>();
  for (const [f, groups] of groupsByFinding(items)) {
    const bins = assignGroups(groups, new Array<number>(k).fill(1 / k), rng.fork(`kfold/${f}`));
    groups.forEach((g, i) => { for (const id of g.ids) out.set(id, bins[i]!); });
  }
  return out;
}

/** Image counts per split × finding (for `dataset show`). */
export function splitCounts<S extends string | number>(items: readonly SplitItem[], assignment: ReadonlyMap<string, S>): Map<S, FindingCounts> {
  const out = new Map<S, FindingCounts>();
  for (const it of items) {
    const s = assignment.get(it.id);
    if (s === undefined) continue;
    let c = out.get(s);
    if (!c) { c = emptyCounts(); out.set(s, c); }
    c[it.finding]++;
  }
  return out;
}
