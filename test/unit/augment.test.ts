import { describe, expect, it } from 'vitest';
import { createImage, type GrayImage } from '../../shared/images/image.js';
import { createRng } from '../../shared/images/rng.js';
import {
  affine, brightnessContrast, clahe, Compose, gamma, motionBlurKernel, OneOf, sharpen, boxBlur,
  strongAugmentation, ShiftScaleRotate,
} from '../../shared/images/augment/index.js';

function gradient(w = 32, h = 32): GrayImage {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = (x + y) / (w + h - 2);
  return createImage(w, h, 8, d);
}

function leftMarker(w = 32, h = 32): GrayImage {
  const d = new Float32Array(w * h).fill(0.2);
  for (let y = 12; y < 20; y++) for (let x = 2; x < 10; x++) d[y * w + x] = 1;
  return createImage(w, h, 8, d);
}

function centroidX(img: GrayImage): number {
  let s = 0, sx = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const v = Math.max(0, img.data[y * img.width + x]! - 0.5);
    s += v; sx += v * x;
  }
  return sx / s;
}

describe('strong augmentation', () => {
  it('is seeded: same seed → identical output, different seed → different output; input untouched', () => {
    const img = gradient();
    const before = Float32Array.from(img.data);
    const t = strongAugmentation();
    const a = t.apply(img, createRng(5)), b = t.apply(img, createRng(5)), c = t.apply(img, createRng(6));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    expect(Array.from(img.data)).toEqual(Array.from(before));
    for (const v of a.data) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });

  it('never flips left-right: a left-side marker stays in the left half over many draws', () => {
    const img = leftMarker();
    const t = strongAugmentation();
    const rng = createRng('laterality');
    for (let i = 0; i < 200; i++) {
      const out = t.apply(img, rng);
      // Shift ≤ 10% and scale ≤ 1.5 about the centre can move x=6 to at most ~ (6-16)*0.5+16+3.2 ≈ 14.
      const cx = centroidX(out);
      if (Number.isFinite(cx)) expect(cx).toBeLessThan(16);
    }
  });
});

describe('individual transforms', () => {
  it('affine with identity params is the identity; a pure shift moves content', () => {
    const img = leftMarker();
    const id = affine(img, { dx: 0, dy: 0, scale: 1, angleDeg: 0 });
    for (let i = 0; i < img.data.length; i++) expect(id.data[i]).toBeCloseTo(img.data[i]!, 6);
    const moved = affine(img, { dx: 0.25, dy: 0, scale: 1, angleDeg: 0 });
    expect(centroidX(moved) - centroidX(img)).toBeCloseTo(8, 4);
    // Black border where the source is outside.
    expect(moved.data[16 * 32 + 0]).toBe(0);
  });

  it('ShiftScaleRotate draws parameters within the study limits', () => {
    const t = new ShiftScaleRotate();
    const rng = createRng(1);
    for (let i = 0; i < 500; i++) {
      const p = t.sample(rng);
      expect(Math.abs(p.dx)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(p.dy)).toBeLessThanOrEqual(0.1);
      expect(p.scale).toBeGreaterThanOrEqual(0.5);
      expect(p.scale).toBeLessThanOrEqual(1.5);
      expect(Math.abs(p.angleDeg)).toBeLessThanOrEqual(10);
    }
  });

  it('brightness/contrast and gamma are the documented point maps', () => {
    const img = createImage(3, 1, 8, Float32Array.from([0, 0.25, 0.5]));
    expect(Array.from(brightnessContrast(img, 1.2, 0.1).data).map((v) => +v.toFixed(4))).toEqual([0.1, 0.4, 0.7]);
    expect(gamma(img, 2).data[2]).toBeCloseTo(0.25, 6);
  });

  it('CLAHE raises local contrast of a low-contrast image and stays in range', () => {
    const d = new Float32Array(64 * 64);
    for (let i = 0; i < d.length; i++) d[i] = 0.45 + 0.1 * ((i * 7919) % 101) / 100;
    const img = createImage(64, 64, 8, d);
    const out = clahe(img, 4, 8);
    const range = (a: Float32Array) => Math.max(...a) - Math.min(...a);
    expect(range(out.data)).toBeGreaterThan(range(img.data) * 2);
    for (const v of out.data) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(1); }
  });

  it('blur smooths, sharpen enhances an edge, motion-blur kernels sum to 1', () => {
    const img = leftMarker();
    const edge = (g: GrayImage) => g.data[16 * 32 + 9]! - g.data[16 * 32 + 10]!;
    expect(edge(boxBlur(img, 3))).toBeLessThan(edge(img));
    expect(edge(sharpen(img, 0.5, 1))).toBeGreaterThan(edge(img));
    for (const a of [0, 0.3, Math.PI / 4, 1.2]) {
      const k = motionBlurKernel(3, a);
      expect(k.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      expect(k[4]).toBeGreaterThan(0);
    }
  });

  it('OneOf with p=0 passes through; Compose applies in order', () => {
    const img = gradient(8, 8);
    const none = new OneOf([strongAugmentation()], 0).apply(img, createRng(1));
    expect(none).toBe(img);
    const both = new Compose([
      { name: 'half', apply: (g) => brightnessContrast(g, 0.5, 0) },
      { name: 'plus', apply: (g) => brightnessContrast(g, 1, 0.5) },
    ]).apply(img, createRng(1));
    expect(both.data[63]).toBeCloseTo(1, 5);
  });
});
