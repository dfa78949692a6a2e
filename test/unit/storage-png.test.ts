import { describe, expect, it } from 'vitest';
import { crc32, deflateSync } from 'node:zlib';
import { encode as fastEncode } from 'fast-png';
import {
  DEFAULT_PNG_LIMITS,
  InvalidImageError,
  decodePng,
  encodePng,
  probePng,
  validatePng,
  type InvalidImageReason,
} from '../../shared/images/png.js';

// Hand-built PNGs let us state exactly what a hostile file contains.
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
function ihdr(width: number, height: number, depth = 8, colorType = 0, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}
const SIG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
function png(...chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat([SIG, ...chunks]);
}
const IEND = chunk('IEND', new Uint8Array(0));

function expectInvalid(fn: () => unknown, reason: InvalidImageReason, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidImageError);
    expect((err as InvalidImageError).reason).toBe(reason);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected InvalidImageError');
}

function ramp8(w: number, h: number): Uint8Array {
  const d = new Uint8Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = (i * 7 + (i >> 3)) & 0xff;
  return d;
}

describe('png: encode/decode round trips', () => {
  it('8-bit grayscale round trips exactly and probes its header', () => {
    const data = ramp8(37, 21);
    const bytes = encodePng({ width: 37, height: 21, bitDepth: 8, data });
    expect(probePng(bytes)).toEqual({ width: 37, height: 21, bitDepth: 8, colorType: 0, channels: 1, interlaced: false });
    const img = decodePng(bytes);
    expect(img.bitDepth).toBe(8);
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(img.data)).toEqual(Array.from(data));
  });

  it('16-bit grayscale round trips exactly (values above 255 survive)', () => {
    const data = new Uint16Array(19 * 11);
    for (let i = 0; i < data.length; i++) data[i] = (i * 313) & 0xffff;
    const bytes = encodePng({ width: 19, height: 11, bitDepth: 16, data });
    expect(validatePng(bytes, { requireGray: true }).bitDepth).toBe(16);
    const img = decodePng(bytes);
    expect(img.bitDepth).toBe(16);
    expect(img.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(img.data)).toEqual(Array.from(data));
  });

  it('encoding is deterministic', () => {
    const data = ramp8(64, 64);
    expect(Buffer.from(encodePng({ width: 64, height: 64, bitDepth: 8, data })).equals(
      Buffer.from(encodePng({ width: 64, height: 64, bitDepth: 8, data: data.slice() })),
    )).toBe(true);
  });

  it('encode rejects mismatched data', () => {
    expect(() => encodePng({ width: 4, height: 4, bitDepth: 8, data: new Uint8Array(15) })).toThrow(/16/);
    expect(() =>
      encodePng({ width: 2, height: 2, bitDepth: 16, data: new Uint8Array(4) as unknown as Uint16Array }),
    ).toThrow(/Uint16Array/);
  });

  it('RGB is reduced to BT.601 luma, alpha dropped', () => {
    const rgb = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 200);
    const img = decodePng(fastEncode({ width: 2, height: 2, data: rgb, channels: 3, depth: 8 }));
    expect(Array.from(img.data)).toEqual([76, 150, 29, 200]);
    const ga = Uint8Array.of(10, 255, 20, 0, 30, 128, 40, 1);
    const img2 = decodePng(fastEncode({ width: 2, height: 2, data: ga, channels: 2, depth: 8 }));
    expect(Array.from(img2.data)).toEqual([10, 20, 30, 40]);
  });

  it('1-bit grayscale is unpacked and scaled to 0/255', () => {
    // 3 px wide: one byte per row, top bits used. Rows: 101, 010.
    const raw = Uint8Array.of(0, 0b1010_0000, 0, 0b0100_0000);
    const bytes = png(ihdr(3, 2, 1, 0), chunk('IDAT', deflateSync(raw)), IEND);
    expect(Array.from(decodePng(bytes).data)).toEqual([255, 0, 255, 0, 255, 0]);
  });

  it('palette images map through the palette to luma', () => {
    const plte = chunk('PLTE', Uint8Array.of(0, 0, 0, 255, 255, 255, 255, 0, 0));
    const raw = Uint8Array.of(0, 0, 1, 2); // one row, 3 px, indexes 0,1,2
    const bytes = png(ihdr(3, 1, 8, 3), plte, chunk('IDAT', deflateSync(raw)), IEND);
    expect(Array.from(decodePng(bytes).data)).toEqual([0, 255, 76]);
    expectInvalid(() => validatePng(bytes, { requireGray: true }), 'unsupported', /grayscale/);
  });

  it('Adam7-interlaced images validate and decode', () => {
    const data = ramp8(13, 9);
    const bytes = fastEncode({ width: 13, height: 9, data, channels: 1, depth: 8 }, { interlace: 'Adam7' });
    expect(validatePng(bytes).interlaced).toBe(true);
    expect(Array.from(decodePng(bytes).data)).toEqual(Array.from(data));
  });
});

describe('png: hostile and broken input', () => {
  const good = encodePng({ width: 16, height: 16, bitDepth: 8, data: ramp8(16, 16) });

  it('empty bytes', () => expectInvalid(() => probePng(new Uint8Array(0)), 'empty', /empty/));

  it('non-image bytes', () => {
    expectInvalid(() => validatePng(Buffer.from('hello, this is not an image')), 'not_png', /signature/);
    expectInvalid(() => validatePng(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5)), 'not_png', /signature/);
  });

  it('over the byte limit, before parsing', () => {
    expectInvalid(() => probePng(good, { maxBytes: good.length - 1 }), 'too_large', new RegExp(`${good.length} bytes`));
    expect(probePng(good, { maxBytes: good.length }).width).toBe(16);
  });

  it('a header claiming 100000×100000 is refused from the header alone', () => {
    // Only a header and a tiny IDAT: nothing could be decoded, so the refusal must come from IHDR.
    const bomb = png(ihdr(100_000, 100_000), chunk('IDAT', deflateSync(new Uint8Array(10))), IEND);
    expectInvalid(() => probePng(bomb), 'too_many_pixels', /100000×100000.*limit is 50000000/);
    expectInvalid(() => decodePng(bomb), 'too_many_pixels', /pixels/);
    expectInvalid(() => probePng(good, { maxPixels: 255 }), 'too_many_pixels', /limit is 255/);
  });

  it('a small header over a huge compressed stream is stopped at the size the header implies', () => {
    // 8×8 claims 72 raw bytes; the stream inflates to 64 MiB of zeros (about 64 KiB compressed).
    const huge = deflateSync(Buffer.alloc(64 * 1024 * 1024));
    const bomb = png(ihdr(8, 8), chunk('IDAT', huge), IEND);
    expectInvalid(() => validatePng(bomb), 'corrupt', /more than the 72 bytes/);
  });

  it('truncated files, bad checksums and missing chunks', () => {
    expectInvalid(() => validatePng(good.subarray(0, 20)), 'corrupt', /truncated/);
    expectInvalid(() => validatePng(good.subarray(0, good.length - 12)), 'corrupt', /IEND/);
    const flipped = Uint8Array.from(good);
    flipped[45] = flipped[45]! ^ 0xff; // inside the IDAT payload
    expectInvalid(() => validatePng(flipped), 'corrupt', /checksum mismatch in chunk "IDAT"/);
    const badHeader = Uint8Array.from(good);
    badHeader[17] = badHeader[17]! ^ 1;
    expectInvalid(() => probePng(badHeader), 'corrupt', /IHDR checksum/);
    expectInvalid(() => validatePng(png(ihdr(4, 4), IEND)), 'corrupt', /no image data/);
    expectInvalid(() => validatePng(png(chunk('tEXt', new Uint8Array(13)), IEND)), 'corrupt', /first chunk/);
  });

  it('short or garbled image data', () => {
    const short = png(ihdr(8, 8), chunk('IDAT', deflateSync(new Uint8Array(70))), IEND);
    expectInvalid(() => validatePng(short), 'corrupt', /70 bytes, expected 72/);
    const garbage = png(ihdr(8, 8), chunk('IDAT', Uint8Array.of(1, 2, 3, 4, 5, 6)), IEND);
    expectInvalid(() => validatePng(garbage), 'corrupt', /does not inflate/);
  });

  it('invalid header fields', () => {
    expectInvalid(() => probePng(png(ihdr(0, 5), IEND)), 'corrupt', /dimensions 0×5/);
    expectInvalid(() => probePng(png(ihdr(5, 5, 3, 0), IEND)), 'corrupt', /bit depth 3/);
    expectInvalid(() => probePng(png(ihdr(5, 5, 8, 5), IEND)), 'corrupt', /colour type 5/);
    expectInvalid(() => probePng(png(ihdr(5, 5, 16, 3), IEND)), 'corrupt', /bit depth 16 is not allowed for colour type palette/);
  });

  it('colour images are refused where grayscale is required', () => {
    const rgb = fastEncode({ width: 2, height: 1, data: new Uint8Array(6), channels: 3, depth: 8 });
    expectInvalid(() => validatePng(rgb, { requireGray: true }), 'unsupported', /8-bit RGB/);
  });

  it('defaults are exposed and frozen', () => {
    expect(DEFAULT_PNG_LIMITS.maxPixels).toBeGreaterThanOrEqual(3000 * 2500);
    expect(Object.isFrozen(DEFAULT_PNG_LIMITS)).toBe(true);
  });
});
