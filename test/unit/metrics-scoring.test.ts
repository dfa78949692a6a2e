import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aggregateReports, compareToBaseline } from '../../services/metrics/scoring/aggregate.js';
import { scoreClassification } from '../../services/metrics/scoring/classification.js';
import { oneVsRestAuc, rocAuc } from '../../services/metrics/scoring/roc-auc.js';

const ref = JSON.parse(readFileSync(new URL('../fixtures/metrics/stats-reference.json', import.meta.url), 'utf8')) as {
  auc: { scores: number[]; labels: number[]; auc: number };
};

// 3 classes, 10 samples; worked by hand:
//   confusion (true × predicted) = [[3,1,0],[0,2,0],[1,1,2]]
const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0];
const predicted = [0, 1, 0, 1, 1, 2, 0, 2, 1, 0];

describe('classification scores on a fixed table', () => {
  it('confusion matrix, accuracy, balanced accuracy, per-class and macro F1', () => {
    const r = scoreClassification({ labels, predicted, classes: 3 });
    expect(r.confusion).toEqual([3, 1, 0, 0, 2, 0, 1, 1, 2]);
    expect(r.accuracy).toBeCloseTo(0.7, 12);
    expect(r.balancedAccuracy).toBeCloseTo((0.75 + 1 + 0.5) / 3, 12);
    expect(r.perClass.map((c) => [c.precision, c.recall, c.support])).toEqual([
      [0.75, 0.75, 4],
      [0.5, 1, 2],
      [1, 0.5, 4],
    ]);
    expect(r.perClass[1]!.f1).toBeCloseTo(2 / 3, 12);
    expect(r.macroF1).toBeCloseTo((0.75 + 2 / 3 + 2 / 3) / 3, 12);
    expect(r.macroRocAuc).toBeNull();
  });

  it('treats a class absent from labels and predictions as neither help nor harm', () => {
    const r = scoreClassification({ labels, predicted, classes: 5 });
    expect(r.macroF1).toBeCloseTo((0.75 + 2 / 3 + 2 / 3) / 3, 12);
    expect(r.balancedAccuracy).toBeCloseTo(0.75, 12);
    expect(r.perClass[4]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
  });

  it('derives predictions from probabilities (argmax) and adds one-vs-rest AUC', () => {
    const probs = predicted.map((p, i) => [0, 1, 2].map((c) => (c === p ? 0.6 : 0.2) + 0.001 * i * (c === labels[i] ? 1 : 0)));
    const r = scoreClassification({ labels, probabilities: probs, classes: 3 });
    expect(r.confusion).toEqual([3, 1, 0, 0, 2, 0, 1, 1, 2]);
    expect(r.macroRocAuc).not.toBeNull();
    expect(r.perClass[1]!.rocAuc).toBe(1); // class 1 is always scored 0.6+ and nothing else is
  });

  it('rejects malformed input with a message', () => {
    expect(() => scoreClassification({ labels: [0, 1], predicted: [0], classes: 2 })).toThrow(/1 predictions for 2 labels/);
    expect(() => scoreClassification({ labels: [0, 3], predicted: [0, 1], classes: 2 })).toThrow(/label 1 is 3/);
    expect(() => scoreClassification({ labels: [0, 1], probabilities: [[1, 0], [1]], classes: 2 })).toThrow(/row 1 has 1 values/);
  });
});

describe('ROC AUC', () => {
  it('handles ties as one half and matches the Mann–Whitney reference', () => {
    expect(rocAuc(ref.auc.scores, ref.auc.labels.map((l) => l === 1))).toBeCloseTo(ref.auc.auc, 12);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [true, false, true, false])).toBe(0.5);
    expect(rocAuc([0.1, 0.2, 0.3], [false, false, true])).toBe(1);
    expect(rocAuc([0.1, 0.2, 0.3], [true, false, false])).toBe(0);
    expect(rocAuc([0.1, 0.2], [true, true])).toBeNull();
  });

  it('macro-averages one-vs-rest over classes that have positives and negatives', () => {
    const r = oneVsRestAuc([[0.9, 0.1, 0], [0.2, 0.8, 0], [0.6, 0.4, 0]], [0, 1, 0], 3);
    expect(r.perClass).toEqual([1, 1, null]);
    expect(r.macro).toBe(1);
  });
});

describe('aggregation over repetitions and comparison with a baseline', () => {
  const rep = (acc: number) => {
    // a 2-class table with a chosen number of correct answers out of 10
    const l = Array.from({ length: 10 }, (_, i) => i % 2);
    const p = l.map((v, i) => (i < acc ? v : 1 - v));
    return scoreClassification({ labels: l, predicted: p, classes: 2 });
  };

  it('reports mean ± SD per metric', () => {
    const agg = aggregateReports([rep(7), rep(8), rep(9)], ['healthy', 'sick']);
    const acc = agg.find((a) => a.metric === 'accuracy')!;
    expect(acc).toMatchObject({ n: 3 });
    expect(acc.mean).toBeCloseTo(0.8, 12);
    expect(acc.sd).toBeCloseTo(0.1, 12);
    expect(agg.map((a) => a.metric)).toContain('f1/sick');
  });

  it('gives a Welch CI and p-value for the change', () => {
    const cmp = compareToBaseline([rep(6), rep(7), rep(6), rep(7)], [rep(9), rep(8), rep(9), rep(8)], ['a', 'b']);
    const acc = cmp.find((c) => c.metric === 'accuracy')!;
    expect(acc.delta).toBeCloseTo(0.2, 12);
    expect(acc.ciLow).toBeGreaterThan(0);
    expect(acc.pValue).toBeLessThan(0.01);
    expect(acc.test).toBe('welch-t');
    expect(() => compareToBaseline([rep(6)], [rep(9), rep(8)], ['a', 'b'])).toThrow(/at least 2 repetitions/);
  });
});
