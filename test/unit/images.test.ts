import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { createImage, fromUint8, toUint8, toUint16, fromUint16 } from '../../shared/images/image.js';
import { resize } from '../../shared/images/resize.js';
import { normalizeMinMax, normalizePercentile, standardize, meanStd } from '../../shared/images/normalize.js';
import { decodeJpegGray } from '../../shared/images/jpeg.js';
import { createRng } from '../../shared/images/rng.js';
import { ImageDecodeError, ImageLimitError } from '../../shared/images/errors.js';
import { decodeGrayPng, encodeGrayPng } from '../../shared/images/codec.js';

function stripes(w: number, h: number, period: number) {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = Math.floor(x / period) % 2;
  return createImage(w, h, 8, d);
}

describe('resize', () => {
  it('keeps a flat image flat with every filter (weights normalised, borders too)', () => {
    const img = createImage(37, 23, 8, new Float32Array(37 * 23).fill(0.4));
    for (const filter of ['triangle', 'area', 'lanczos3'] as const) {
      for (const [w, h] of [[10, 7], [80, 51]]) {
        const out = resize(img, w, h, { filter });
        for (const v of out.data) expect(v).toBeCloseTo(0.4, 5);
      }
    }
  });

  it('antialiases: 1-px stripes shrink to mid-grey instead of aliasing to black/white', () => {
    const img = stripes(64, 64, 1);
    for (const filter of ['triangle', 'area'] as const) {
      const out = resize(img, 16, 16, { filter });
      for (const v of out.data) expect(Math.abs(v - 0.5)).toBeLessThan(0.05);
    }
  });

  it('area filter at an integer factor is the block mean', () => {
    const d = Float32Array.from({ length: 16 }, (_, i) => i / 15);
    const out = resize(createImage(4, 4, 8, d), 2, 2, { filter: 'area' });
    expect(out.data[0]).toBeCloseTo((d[0]! + d[1]! + d[4]! + d[5]!) / 4, 6);
    expect(out.data[3]).toBeCloseTo((d[10]! + d[11]! + d[14]! + d[15]!) / 4, 6);
  });

  it('does not mirror: a bright left half stays on the left', () => {
    const d = new Float32Array(40 * 40);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 20; x++) d[y * 40 + x] = 1;
    const out = resize(createImage(40, 40, 8, d), 13, 9);
    expect(out.data[4 * 13 + 1]).toBeGreaterThan(0.9);
    expect(out.data[4 * 13 + 11]).toBeLessThan(0.1);
  });
});

describe('quantisation and normalisation', () => {
  it('round-trips 8 and 16 bit pixels exactly', () => {
    const p8 = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(toUint8(fromUint8(16, 16, p8)))).toEqual(Array.from(p8));
    const p16 = Uint16Array.from({ length: 256 }, (_, i) => i * 257 + (i % 7));
    const img16 = fromUint16(16, 16, p16);
    expect(img16.bitDepth).toBe(16);
    expect(Array.from(toUint16(img16))).toEqual(Array.from(p16));
  });

  it('min-max maps to [0,1]; percentile clips outliers; standardize uses mean/std', () => {
    const rng = createRng(1);
    const d = Float32Array.from({ length: 1000 }, () => 0.3 + 0.2 * rng.next());
    d[0] = 1; // a burned-in marker
    const img = createImage(100, 10, 8, d);
    const mm = normalizeMinMax(img);
    expect(Math.min(...mm.data)).toBe(0);
    expect(Math.max(...mm.data)).toBe(1);
    const pc = normalizePercentile(img, 1, 99);
    // Without the outlier dominating, the bulk spreads over most of [0,1].
    expect(meanStd(pc).std).toBeGreaterThan(meanStd(mm).std * 2);
    const st = standardize(createImage(2, 1, 8, Float32Array.from([0.449, 0.675])));
    expect(st[0]).toBeCloseTo(0, 5);
    expect(st[1]).toBeCloseTo(1, 2);
  });
});

describe('JPEG decode', () => {
  it('decodes to grayscale luma with the right geometry', () => {
    const w = 32, h = 16;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      const v = (i % w) < 16 ? 40 : 200;
      rgba.set([v, v, v, 255], i * 4);
    }
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
    const img = decodeJpegGray(bytes);
    expect([img.width, img.height, img.bitDepth]).toEqual([32, 16, 8]);
    expect(img.data[8 * w + 4]! * 255).toBeCloseTo(40, -1);
    expect(img.data[8 * w + 28]! * 255).toBeCloseTo(200, -1);
  });

  it('rejects garbage and oversize images with typed INVALID_ARGUMENT errors', () => {
    expect(() => decodeJpegGray(new Uint8Array([1, 2, 3, 4]))).toThrow(ImageDecodeError);
    expect(() => decodeJpegGray(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2]))).toThrow(ImageDecodeError);
    const rgba = new Uint8Array(64 * 64 * 4).fill(128);
    const bytes = new Uint8Array(jpeg.encode({ width: 64, height: 64, data: rgba }, 80).data);
    try {
      decodeJpegGray(bytes, { maxDimension: 32 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ImageLimitError);
      expect((err as ImageLimitError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('rng', () => {
  it('is deterministic per seed, distinct across seeds, and forks independently', () => {
    const a = createRng('x'), b = createRng('x'), c = createRng('y');
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    const f1 = createRng(3).fork('img'), f2 = createRng(3).fork('img');
    expect(f1.next()).toBe(f2.next());
    const r = createRng(9);
    let s = 0;
    for (let i = 0; i < 20000; i++) s += r.normal();
    expect(Math.abs(s / 20000)).toBeLessThan(0.03);
  });
});

describe('PNG bridge', () => {
  it('round-trips 8- and 16-bit images losslessly through the storage PNG codec', () => {
    const p16 = Uint16Array.from({ length: 12 * 7 }, (_, i) => (i * 7919) % 65536);
    const img16 = fromUint16(12, 7, p16);
    const back16 = decodeGrayPng(encodeGrayPng(img16));
    expect(back16.bitDepth).toBe(16);
    expect(Array.from(toUint16(back16))).toEqual(Array.from(p16));
    const p8 = Uint8Array.from({ length: 5 * 9 }, (_, i) => (i * 37) % 256);
    const back8 = decodeGrayPng(encodeGrayPng(fromUint8(5, 9, p8)));
    expect([back8.width, back8.height, back8.bitDepth]).toEqual([5, 9, 8]);
    expect(Array.from(toUint8(back8))).toEqual(Array.from(p8));
  });
});
