import { describe, expect, it } from 'vitest';
import { fromRows, matrix, type Matrix } from '../../services/metrics/linalg/matrix.js';
import { memorization } from '../../services/metrics/quality/memorization.js';
import { createRng } from '../../services/metrics/stats/rng.js';

function random(n: number, d: number, seed: number): Matrix {
  const rng = createRng(seed);
  const x = matrix(n, d);
  for (let i = 0; i < x.data.length; i++) x.data[i] = rng.next();
  return x;
}

describe('memorization', () => {
  it('finds planted copies in both spaces and ranks them closest', () => {
    const realF = random(40, 6, 1);
    const realP = random(40, 64, 2);
    const synthF = random(10, 6, 3);
    const synthP = random(10, 64, 4);
    // synthetic 3 copies real 17; synthetic 7 is real 5 with a tiny perturbation
    synthF.data.set(realF.data.subarray(17 * 6, 18 * 6), 3 * 6);
    synthP.data.set(realP.data.subarray(17 * 64, 18 * 64), 3 * 64);
    for (let k = 0; k < 6; k++) synthF.data[7 * 6 + k] = realF.data[5 * 6 + k]! + 1e-3;
    for (let k = 0; k < 64; k++) synthP.data[7 * 64 + k] = realP.data[5 * 64 + k]! + 1e-3;
    const r = memorization({ realFeatures: realF, syntheticFeatures: synthF, realPixels: realP, syntheticPixels: synthP }, { closest: 3 });
    expect(r.nearest[3]).toMatchObject({ realByFeature: 17, realByPixel: 17, featureDistance: 0, pixelDistance: 0 });
    expect(r.nearest[7]!.realByFeature).toBe(5);
    expect(r.nearest[7]!.pixelDistance).toBeCloseTo(1e-3, 9); // RMS of a constant 1e-3 offset
    expect(r.closest.map((c) => c.synthetic).slice(0, 2)).toEqual([3, 7]);
    expect(r.shareBelowFeature).toBeCloseTo(0.2, 12);
    expect(r.shareBelowPixel).toBeCloseTo(0.2, 12);
    expect(r.closest[0]!.pixelDistanceToFeatureNeighbour).toBe(0);
  });

  it('uses a threshold relative to real-to-real neighbour distances', () => {
    // real points on a line 1 apart: median nearest-neighbour distance 1
    const real = fromRows([[0], [1], [2], [3]]);
    const synth = fromRows([[0.3], [1.45], [10]]);
    const r = memorization({ realFeatures: real, syntheticFeatures: synth }, { threshold: 0.4 });
    expect(r.realNeighbourMedianFeature).toBe(1);
    expect(r.nearest.map((n) => n.featureRatio)).toEqual([expect.closeTo(0.3, 12), expect.closeTo(0.45, 12), 7]);
    expect(r.shareBelowFeature).toBeCloseTo(1 / 3, 12);
    expect(Number.isNaN(r.shareBelowPixel)).toBe(true);
  });

  it('rejects mismatched dimensions and bad thresholds', () => {
    expect(() => memorization({ realFeatures: random(4, 3, 1), syntheticFeatures: random(2, 2, 1) })).toThrow(/dimensions differ/);
    expect(() => memorization({ realFeatures: random(4, 3, 1), syntheticFeatures: random(2, 3, 1) }, { threshold: 0 })).toThrow(/> 0/);
    expect(() =>
      memorization({ realFeatures: random(4, 3, 1), syntheticFeatures: random(2, 3, 1), realPixels: random(4, 9, 1), syntheticPixels: random(2, 4, 1) }),
    ).toThrow(/pixel sizes differ/);
  });
});
