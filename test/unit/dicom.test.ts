import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDicom, pseudonymize, type DicomImage } from '../../shared/images/dicom.js';
import { ImageDecodeError, UnsupportedTransferSyntaxError } from '../../shared/images/errors.js';

// Reference values computed with pydicom (Debian python3-pydicom) by test/fixtures/dicom/make-fixtures.py.
interface Stats { min: number; max: number; mean: number; samples: number[]; indices: number[]; sha256: string }
interface Ref { transferSyntax: string; rows: number; columns: number; photometric: string; voi?: string; modality?: Stats; display?: Stats; identifying?: string[] }
const dir = new URL('../fixtures/dicom/', import.meta.url);
const ref = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8')) as Record<string, Ref>;
const load = (f: string) => new Uint8Array(readFileSync(new URL(f, dir)));
const salt = 'test-salt';

function sha(values: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

const native = ['CT_small.dcm', 'MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'image_dfl.dcm', 'mono1_cr.dcm', 'voi_lut_ct.dcm'];

describe('DICOM pixels match pydicom', () => {
  for (const f of native) {
    it(`${f} (${ref[f]!.transferSyntax}): modality values identical after rescale; display within float error`, () => {
      const r = ref[f]!;
      const d = decodeDicom(load(f), { salt });
      expect([d.image.width, d.image.height]).toEqual([r.columns, r.rows]);
      expect(d.meta.transferSyntax).toBe(r.transferSyntax);
      expect(d.meta.voi).toBe(r.voi);
      // Bit-exact: same float64 values in the same order.
      expect(sha(d.modality)).toBe(r.modality!.sha256);
      const dm = r.display!;
      const mean = d.image.data.reduce((s, v) => s + v, 0) / d.image.data.length;
      expect(mean).toBeCloseTo(dm.mean, 4);
      dm.indices.forEach((idx, k) => expect(d.image.data[idx]).toBeCloseTo(dm.samples[k]!, 5));
    });
  }

  it('keeps the bit depth: 16-bit for deep images, 8-bit for 8-bit ones', () => {
    expect(decodeDicom(load('CT_small.dcm'), { salt }).image.bitDepth).toBe(16);
    expect(decodeDicom(load('mono1_cr.dcm'), { salt }).meta.bitsStored).toBe(12);
    expect(decodeDicom(load('mono1_cr.dcm'), { salt }).image.bitDepth).toBe(16);
    expect(decodeDicom(load('image_dfl.dcm'), { salt }).image.bitDepth).toBe(8);
  });

  it('rescales CT to Hounsfield units (intercept −1024) and signed values survive', () => {
    const d = decodeDicom(load('CT_small.dcm'), { salt });
    expect(Math.min(...d.modality)).toBe(ref['CT_small.dcm']!.modality!.min);
    expect(Math.max(...d.modality)).toBe(ref['CT_small.dcm']!.modality!.max);
  });

  it('inverts MONOCHROME1: the same pixels read as MONOCHROME2 give 1 − value', () => {
    const bytes = load('mono1_cr.dcm');
    const inv = decodeDicom(bytes, { salt });
    // Patch the photometric string in place (same length: "MONOCHROME1" → "MONOCHROME2").
    const s = Buffer.from(bytes).toString('latin1');
    const at = s.indexOf('MONOCHROME1');
    const patched = new Uint8Array(bytes);
    patched[at + 10] = '2'.charCodeAt(0);
    const norm = decodeDicom(patched, { salt });
    for (let i = 0; i < inv.image.data.length; i += 97) expect(inv.image.data[i]).toBeCloseTo(1 - norm.image.data[i]!, 6);
  });

  it('decodes encapsulated JPEG baseline to pydicom/libjpeg values within JPEG IDCT rounding', () => {
    const r = ref['jpeg_baseline_cr.dcm']!;
    const d = decodeDicom(load('jpeg_baseline_cr.dcm'), { salt });
    expect(d.meta.transferSyntax).toBe('1.2.840.10008.1.2.4.50');
    expect([d.image.width, d.image.height, d.image.bitDepth]).toEqual([128, 128, 8]);
    // jpeg-js and libjpeg use different IDCTs: values may differ by a grey level or two, never more.
    r.modality!.indices.forEach((idx, k) => expect(Math.abs(d.modality[idx]! - r.modality!.samples[k]!)).toBeLessThanOrEqual(2));
    const mean = d.modality.reduce((s, v) => s + v, 0) / d.modality.length;
    expect(Math.abs(mean - r.modality!.mean)).toBeLessThan(0.5);
  });
});

describe('DICOM errors', () => {
  it('names an unsupported transfer syntax and is INVALID_ARGUMENT', () => {
    try {
      decodeDicom(load('MR_small_RLE.dcm'), { salt });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UnsupportedTransferSyntaxError);
      expect((err as UnsupportedTransferSyntaxError).code).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toContain('1.2.840.10008.1.2.5');
      expect((err as Error).message).toContain('RLE Lossless');
    }
  });

  it('rejects garbage, truncation and missing salt with typed errors', () => {
    expect(() => decodeDicom(new Uint8Array(300), { salt })).toThrow(ImageDecodeError);
    const ct = load('CT_small.dcm');
    expect(() => decodeDicom(ct.subarray(0, ct.length - 5000), { salt })).toThrow(ImageDecodeError);
    expect(() => decodeDicom(ct, { salt: '' })).toThrow(ImageDecodeError);
    expect(() => decodeDicom(ct, { salt, limits: { maxDimension: 64 } })).toThrow(/exceeds/);
  });
});

describe('DICOM de-identification', () => {
  const files = Object.keys(ref).filter((f) => f !== 'MR_small_RLE.dcm');
  it('returns no identifying value anywhere in the result, only a keyed pseudonym', () => {
    for (const f of files) {
      const d: DicomImage = decodeDicom(load(f), { salt });
      const text = JSON.stringify({ ...d, image: undefined, modality: undefined });
      for (const v of ref[f]!.identifying ?? []) {
        for (const part of v.split('^').filter((p) => p.length > 2)) expect(text, `${f} leaks ${part}`).not.toContain(part);
      }
      expect(text).not.toMatch(/\b(19|20)\d{6}\b/); // no DICOM dates
      expect(Object.keys(d.meta).sort()).toEqual(expect.arrayContaining(['photometric', 'rows', 'columns']));
      for (const k of Object.keys(d.meta)) {
        expect(['transferSyntax', 'photometric', 'rows', 'columns', 'bitsAllocated', 'bitsStored', 'pixelRepresentation', 'frames', 'modality', 'viewPosition', 'bodyPart', 'laterality', 'burnedInAnnotation', 'voi']).toContain(k);
      }
    }
  });

  it('pseudonym is a keyed hash: stable per salt, different across salts, not the id itself', () => {
    const a = decodeDicom(load('jpeg_baseline_cr.dcm'), { salt: 'one' }).patientPseudonym!;
    const b = decodeDicom(load('jpeg_baseline_cr.dcm'), { salt: 'one' }).patientPseudonym!;
    const c = decodeDicom(load('jpeg_baseline_cr.dcm'), { salt: 'two' }).patientPseudonym!;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toBe(pseudonymize('MRN-0042-XYZ', 'one'));
    expect(a).toMatch(/^anon-[0-9a-f]{24}$/);
    const meta = decodeDicom(load('jpeg_baseline_cr.dcm'), { salt }).meta;
    expect([meta.modality, meta.viewPosition]).toEqual(['CR', 'PA']);
  });
});
