import { describe, expect, it } from 'vitest';
import { kFoldSplit, splitCounts, splitDataset, type SplitItem } from '../../shared/data/splits.js';
import { planPhantomDataset } from '../../shared/data/phantom/index.js';
import { DatasetInputError, FINDINGS } from '../../shared/data/findings.js';
import { createRng } from '../../shared/images/rng.js';

const phantom: SplitItem[] = planPhantomDataset().map(({ id, patientId, finding }) => ({ id, patientId, finding }));

function randomItems(seed: number, patients: number): SplitItem[] {
  const rng = createRng(seed);
  const out: SplitItem[] = [];
  for (let p = 0; p < patients; p++) {
    const f = rng.pick(FINDINGS);
    const n = rng.int(1, 3);
    for (let k = 0; k < n; k++) out.push({ id: `p${p}-${k}`, patientId: `p${p}`, finding: f });
  }
  return out;
}

function expectNoPatientLeak<S extends string | number>(items: SplitItem[], a: ReadonlyMap<string, S>) {
  const where = new Map<string, S>();
  for (const it of items) {
    const s = a.get(it.id);
    expect(s).toBeDefined();
    if (where.has(it.patientId)) expect(s).toBe(where.get(it.patientId));
    else where.set(it.patientId, s!);
  }
}

function expectShares<S extends string | number>(items: SplitItem[], a: ReadonlyMap<string, S>, fractions: Map<S, number>) {
  const counts = splitCounts(items, a);
  for (const f of FINDINGS) {
    const total = items.filter((i) => i.finding === f).length;
    for (const [s, frac] of fractions) {
      const got = counts.get(s)?.[f] ?? 0;
      expect(Math.abs(got - frac * total), `${String(s)}/${f}: ${got} vs ${frac * total}`).toBeLessThanOrEqual(1);
    }
  }
}

describe('train/val/test split', () => {
  it('the study split: 865/217 on the phantom, no patient in two splits, class shares within one image', () => {
    const a = splitDataset(phantom, { val: 0, test: 0.2, seed: 1 });
    expectNoPatientLeak(phantom, a);
    expectShares(phantom, a, new Map([['train', 0.8], ['test', 0.2]] as const));
    const test = [...a.values()].filter((s) => s === 'test').length;
    expect(Math.abs(test - 216.4)).toBeLessThanOrEqual(2);
    expect([...a.values()].includes('val')).toBe(false);
  });

  it('holds the invariants for three-way splits over many seeds and random datasets', () => {
    for (let seed = 0; seed < 12; seed++) {
      const items = seed < 4 ? phantom : randomItems(seed, 150 + seed * 20);
      const a = splitDataset(items, { val: 0.1, test: 0.2, seed });
      expectNoPatientLeak(items, a);
      expectShares(items, a, new Map([['train', 0.7], ['val', 0.1], ['test', 0.2]] as const));
    }
  });

  it('is deterministic per seed, varies across seeds, and ignores input order', () => {
    const a = splitDataset(phantom, { seed: 5 });
    const b = splitDataset([...phantom].reverse(), { seed: 5 });
    const c = splitDataset(phantom, { seed: 6 });
    expect([...a].sort()).toEqual([...b].sort());
    expect(phantom.some((i) => a.get(i.id) !== c.get(i.id))).toBe(true);
  });

  it('rejects impossible fractions and duplicate ids', () => {
    expect(() => splitDataset(phantom, { val: 0.5, test: 0.5 })).toThrow(DatasetInputError);
    expect(() => splitDataset(phantom, { test: -0.1 })).toThrow(/test/);
    expect(() => splitDataset([phantom[0]!, phantom[0]!])).toThrow(/duplicate/);
  });
});

describe('k-fold', () => {
  it('every image in exactly one fold, patients never split, folds balanced per class', () => {
    for (const k of [3, 5]) {
      const a = kFoldSplit(phantom, { k, seed: 2 });
      expect(a.size).toBe(phantom.length);
      expectNoPatientLeak(phantom, a);
      expectShares(phantom, a, new Map(Array.from({ length: k }, (_, i) => [i, 1 / k] as const)));
    }
    expect(() => kFoldSplit(phantom, { k: 1 })).toThrow(DatasetInputError);
  });
});
