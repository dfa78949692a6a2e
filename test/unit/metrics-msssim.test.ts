import { describe, expect, it } from 'vitest';
import { createImage, type GrayImage } from '../../shared/images/image.js';
import { msssim, msssimDiversity, planScales } from '../../services/metrics/quality/msssim.js';
import { createRng } from '../../services/metrics/stats/rng.js';

function noise(size: number, seed: number): GrayImage {
  const rng = createRng(seed);
  const data = new Float32Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.next();
  return createImage(size, size, 8, data);
}

/** a smooth "phantom": a bright disc on a gradient, so that neighbouring pixels correlate */
function blob(size: number, cx: number, cy: number): GrayImage {
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - cx, y - cy);
      data[y * size + x] = 0.2 + 0.3 * (y / size) + (r < size / 4 ? 0.4 : 0);
    }
  }
  return createImage(size, size, 8, data);
}

describe('MS-SSIM', () => {
  it('plans scales so the coarsest is still as large as the window, with renormalised weights', () => {
    expect(planScales(256, 256).scales).toBe(5);
    expect(planScales(176, 200).scales).toBe(5);
    expect(planScales(175, 200).scales).toBe(4);
    expect(planScales(64, 64).scales).toBe(3);
    const p32 = planScales(32, 32);
    expect(p32.scales).toBe(2);
    expect(p32.weights[0]! + p32.weights[1]!).toBeCloseTo(1, 12);
    expect(p32.weights[1]! / p32.weights[0]!).toBeCloseTo(0.2856 / 0.0448, 12);
    expect(planScales(8, 9)).toMatchObject({ scales: 1, window: 7 });
  });

  it('is 1 for identical images and symmetric', () => {
    const a = blob(64, 20, 30);
    expect(msssim(a, a)).toBeCloseTo(1, 12);
    const b = blob(64, 40, 30);
    expect(msssim(a, b)).toBeCloseTo(msssim(b, a), 12);
    expect(msssim(a, b)).toBeLessThan(1);
  });

  it('is low for independent noise images and high for a slightly perturbed copy', () => {
    const n1 = noise(64, 1);
    const n2 = noise(64, 2);
    expect(msssim(n1, n2)).toBeLessThan(0.1);
    const a = blob(64, 30, 30);
    const nudged = createImage(64, 64, 8, a.data.map((v, i) => v + 0.01 * ((i % 7) / 7 - 0.5)));
    expect(msssim(a, nudged)).toBeGreaterThan(0.95);
  });

  it('scores a set of identical images as not diverse and a noise set as diverse, over all pairs', () => {
    const same = msssimDiversity(Array.from({ length: 5 }, () => blob(32, 16, 16)));
    expect(same.mean).toBeCloseTo(1, 12);
    expect(same.pairs).toBe(10);
    const varied = msssimDiversity(Array.from({ length: 6 }, (_, i) => noise(32, 10 + i)));
    expect(varied.pairs).toBe(15);
    expect(varied.mean).toBeLessThan(0.2);
    expect(varied.plan.scales).toBe(2);
    const sampled = msssimDiversity(Array.from({ length: 6 }, (_, i) => noise(32, 10 + i)), { maxPairs: 5, seed: 3 });
    expect(sampled.pairs).toBe(5);
  });

  it('rejects sets of fewer than two images or of mixed sizes', () => {
    expect(() => msssimDiversity([blob(32, 1, 1)])).toThrow(/at least 2/);
    expect(() => msssimDiversity([blob(32, 1, 1), blob(16, 1, 1)])).toThrow(/one size/);
  });
});
