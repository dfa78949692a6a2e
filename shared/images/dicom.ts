// DICOM in, de-identified grayscale out.
//
// Pixel pipeline, in the order PS3.3 C.11 defines:
//   stored values (masked to Bits Stored, sign-extended when Pixel Representation = 1)
//   → Modality LUT: Rescale Slope / Intercept (e.g. CT numbers in HU)        — returned as `modality`
//   → VOI: the first VOI LUT Sequence item, else the first Window Center/Width (LINEAR, LINEAR_EXACT or SIGMOID),
//     else the full range of the modality values                              — mapped to [0, 1]
//   → MONOCHROME1 inversion (so bright always means dense)                    — returned as `image`
// The bit depth is kept: Bits Stored ≤ 8 gives an 8-bit image, anything deeper a 16-bit one.
//
// Transfer syntaxes: implicit VR little endian, explicit VR little endian, deflated explicit VR little endian,
// explicit VR big endian (native pixels) and JPEG baseline (encapsulated, decoded with jpeg-js). Anything else is an
// UnsupportedTransferSyntaxError naming the syntax (→ INVALID_ARGUMENT).
//
// De-identification: the result carries pixels, a pseudonymous patient id — HMAC-SHA256 of Patient ID keyed with a
// caller-supplied salt, so the same patient maps to the same pseudonym within one deployment and can't be reversed
// or linked across deployments with different salts — and an allow-list of technical fields. Nothing else leaves
// this module: no name, id, birth date, address, accession number, institution, or any date or time.

import { createHmac } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { createImage, type BitDepth, type GrayImage } from './image.js';
import { checkLimits, ImageDecodeError, UnsupportedTransferSyntaxError, type DecodeLimits } from './errors.js';
import { decodeJpegGray } from './jpeg.js';

type DataSet = ReturnType<typeof dicomParser.parseDicom>;

const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
} as const;

const SUPPORTED = new Set<string>(Object.values(TS));

/** Names of common transfer syntaxes, so an error can say what it was. */
const TS_NAMES: Record<string, string> = {
  [TS.implicitLE]: 'Implicit VR Little Endian',
  [TS.explicitLE]: 'Explicit VR Little Endian',
  [TS.deflatedLE]: 'Deflated Explicit VR Little Endian',
  [TS.explicitBE]: 'Explicit VR Big Endian',
  [TS.jpegBaseline]: 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, First-Order Prediction (Process 14 SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Image Compression (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000 Image Compression',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile',
};

/** Technical, non-identifying attributes we pass on. */
export interface DicomSafeMeta {
  transferSyntax: string;
  photometric: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  frames: number;
  modality?: string;
  viewPosition?: string;
  bodyPart?: string;
  laterality?: string;
  /** 'YES' means text may be burned into the pixels (possibly identifying): importers skip such files by default. */
  burnedInAnnotation?: string;
  /** Which VOI step was applied. */
  voi: 'lut' | 'window' | 'range';
}

export interface DicomImage {
  /** Display image: VOI applied, MONOCHROME1 inverted, values in [0, 1], bit depth from Bits Stored. */
  image: GrayImage;
  /** Modality values (stored values after Rescale Slope/Intercept), row-major, first requested frame. */
  modality: Float64Array;
  /** HMAC-SHA256(salt, PatientID) as 'anon-' + 24 hex digits; undefined when the file has no Patient ID. */
  patientPseudonym?: string;
  meta: DicomSafeMeta;
}

export interface DicomDecodeOptions {
  /** Secret salt for the patient pseudonym. Required: a fixed public salt would make pseudonyms reversible by lookup. */
  salt: string;
  frame?: number;
  limits?: DecodeLimits;
}

export function isDicom(bytes: Uint8Array): boolean {
  return bytes.length > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/** Keyed pseudonym for a patient id; the same (salt, id) always gives the same pseudonym. */
export function pseudonymize(patientId: string, salt: string): string {
  return 'anon-' + createHmac('sha256', salt).update(patientId.trim(), 'utf8').digest('hex').slice(0, 24);
}

function parse(bytes: Uint8Array, maxInflated: number): DataSet {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return dicomParser.parseDicom(buf, {
      // Own inflater with an output cap: a deflated file can't blow up memory.
      inflater: (arr: Uint8Array, position: number) => {
        const body = inflateRawSync(Buffer.from(arr.buffer, arr.byteOffset + position, arr.byteLength - position), { maxOutputLength: maxInflated });
        return Buffer.concat([Buffer.from(arr.buffer, arr.byteOffset, position), body]);
      },
    } as Parameters<typeof dicomParser.parseDicom>[1]);
  } catch (err) {
    throw new ImageDecodeError(`not a readable DICOM file: ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'exception' in err) return describe((err as { exception: unknown }).exception);
  return 'unknown error';
}

function str(ds: DataSet, tag: string): string | undefined {
  const v = ds.string(tag);
  return v === undefined || v === '' ? undefined : v;
}

function num(ds: DataSet, tag: string, dflt?: number): number | undefined {
  const v = ds.floatString(tag);
  return v === undefined || Number.isNaN(v) ? dflt : v;
}

export function decodeDicom(bytes: Uint8Array, options: DicomDecodeOptions): DicomImage {
  if (!options.salt) throw new ImageDecodeError('decodeDicom needs a de-identification salt');
  if (!isDicom(bytes)) throw new ImageDecodeError("not a DICOM Part 10 file (no 'DICM' prefix at byte 128)");
  const maxPixels = options.limits?.maxPixels ?? 100_000_000;
  const ds = parse(bytes, maxPixels * 4 + 1_000_000);
  const ts = str(ds, 'x00020010')?.replace(/\0/g, '') ?? TS.implicitLE;
  if (!SUPPORTED.has(ts)) throw new UnsupportedTransferSyntaxError(ts, TS_NAMES[ts] ?? 'unknown transfer syntax');

  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  if (!rows || !columns) throw new ImageDecodeError('DICOM file has no image (Rows/Columns missing)');
  checkLimits(columns, rows, options.limits);
  const bitsAllocated = ds.uint16('x00280100') ?? 16;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  const pixelRepresentation = (ds.uint16('x00280103') ?? 0) === 1 ? 1 : 0;
  const samples = ds.uint16('x00280002') ?? 1;
  const photometric = (str(ds, 'x00280004') ?? 'MONOCHROME2').toUpperCase();
  const frames = Math.max(1, num(ds, 'x00280008', 1)!);
  const frame = options.frame ?? 0;
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) throw new ImageDecodeError(`frame ${frame} out of range (file has ${frames})`);
  const pixelEl = ds.elements['x7fe00010'];
  if (!pixelEl) throw new ImageDecodeError('DICOM file has no Pixel Data (7FE0,0010)');
  if (photometric === 'PALETTE COLOR') throw new ImageDecodeError('PALETTE COLOR DICOM images are not supported (radiographs are grayscale)');

  const n = rows * columns;
  const stored = new Float64Array(n);
  if (ts === TS.jpegBaseline) {
    if (!pixelEl.encapsulatedPixelData) throw new ImageDecodeError('JPEG transfer syntax but pixel data is not encapsulated');
    let jpegBytes: Uint8Array;
    try {
      jpegBytes = pixelEl.basicOffsetTable && pixelEl.basicOffsetTable.length > 0
        ? dicomParser.readEncapsulatedImageFrame(ds, pixelEl, frame)
        : frames === 1
          ? dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelEl, 0, pixelEl.fragments!.length)
          : dicomParser.readEncapsulatedImageFrame(ds, pixelEl, frame, dicomParser.createJPEGBasicOffsetTable(ds, pixelEl));
    } catch (err) {
      throw new ImageDecodeError(`cannot read encapsulated JPEG frame: ${describe(err)}`);
    }
    const jpg = decodeJpegGray(new Uint8Array(jpegBytes), options.limits);
    if (jpg.width !== columns || jpg.height !== rows) throw new ImageDecodeError(`JPEG frame is ${jpg.width}x${jpg.height}, DICOM header says ${columns}x${rows}`);
    for (let i = 0; i < n; i++) stored[i] = Math.round(jpg.data[i]! * 255);
  } else {
    readNative(ds, pixelEl, ts === TS.explicitBE, { n, frame, bitsAllocated, bitsStored, highBit, pixelRepresentation, samples, stored });
  }

  // Modality LUT (rescale).
  const slope = num(ds, 'x00281053', 1)!;
  const intercept = num(ds, 'x00281052', 0)!;
  const modality = new Float64Array(n);
  for (let i = 0; i < n; i++) modality[i] = stored[i]! * slope + intercept;

  // VOI.
  const display = new Float32Array(n);
  let voi: DicomSafeMeta['voi'];
  const lutSeq = ds.elements['x00283010']?.items?.[0]?.dataSet;
  const wc = num(ds, 'x00281050'), ww = num(ds, 'x00281051');
  if (lutSeq && lutSeq.elements['x00283006']) {
    applyVoiLut(lutSeq, modality, display, ts === TS.explicitBE);
    voi = 'lut';
  } else if (wc !== undefined && ww !== undefined && ww > 0) {
    const fn = (str(ds, 'x00281056') ?? 'LINEAR').toUpperCase();
    applyWindow(modality, display, wc, ww, fn);
    voi = 'window';
  } else {
    let lo = Infinity, hi = -Infinity;
    for (const v of modality) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const span = hi - lo;
    for (let i = 0; i < n; i++) display[i] = span > 0 ? (modality[i]! - lo) / span : 0;
    voi = 'range';
  }
  if (photometric === 'MONOCHROME1') for (let i = 0; i < n; i++) display[i] = 1 - display[i]!;

  const bitDepth: BitDepth = bitsStored > 8 && ts !== TS.jpegBaseline ? 16 : 8;
  const patientId = str(ds, 'x00100020');
  const meta: DicomSafeMeta = {
    transferSyntax: ts,
    photometric,
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    frames,
    voi,
  };
  const safe: [keyof DicomSafeMeta, string][] = [['modality', 'x00080060'], ['viewPosition', 'x00185101'], ['bodyPart', 'x00180015'], ['burnedInAnnotation', 'x00280301']];
  for (const [k, tag] of safe) { const v = str(ds, tag); if (v !== undefined) (meta as unknown as Record<string, unknown>)[k] = v.toUpperCase(); }
  const lat = str(ds, 'x00200062') ?? str(ds, 'x00200060');
  if (lat !== undefined) meta.laterality = lat.toUpperCase();
  return {
    image: createImage(columns, rows, bitDepth, display),
    modality,
    ...(patientId ? { patientPseudonym: pseudonymize(patientId, options.salt) } : {}),
    meta,
  };
}

interface NativeLayout {
  n: number;
  frame: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  samples: number;
  stored: Float64Array;
}

function readNative(ds: DataSet, el: { dataOffset: number; length: number }, bigEndian: boolean, L: NativeLayout): void {
  const bytesPer = L.bitsAllocated / 8;
  if (![8, 16, 32].includes(L.bitsAllocated)) throw new ImageDecodeError(`Bits Allocated ${L.bitsAllocated} is not supported (8, 16 or 32)`);
  const frameBytes = L.n * L.samples * bytesPer;
  const start = el.dataOffset + L.frame * frameBytes;
  if (start + frameBytes > ds.byteArray.length || L.frame * frameBytes + frameBytes > el.length) {
    throw new ImageDecodeError(`Pixel Data is truncated: need ${frameBytes} bytes for frame ${L.frame}, element holds ${el.length}`);
  }
  const view = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + start, frameBytes);
  const le = !bigEndian;
  const shift = L.highBit + 1 - L.bitsStored; // bits below the stored value (usually 0)
  const mask = L.bitsStored >= 32 ? 0xffffffff : (2 ** L.bitsStored) - 1;
  const signBit = 2 ** (L.bitsStored - 1);
  const readRaw = (i: number): number => {
    switch (bytesPer) {
      case 1: return view.getUint8(i);
      case 2: return view.getUint16(i * 2, le);
      default: return view.getUint32(i * 4, le);
    }
  };
  for (let p = 0; p < L.n; p++) {
    let v: number;
    if (L.samples === 1) {
      v = unpack(readRaw(p), shift, mask, signBit, L.pixelRepresentation);
    } else {
      // Colour (rare for radiographs): interleaved RGB assumed (Planar Configuration 0) → BT.601 luma.
      const r = unpack(readRaw(p * L.samples), shift, mask, signBit, L.pixelRepresentation);
      const g = unpack(readRaw(p * L.samples + 1), shift, mask, signBit, L.pixelRepresentation);
      const b = unpack(readRaw(p * L.samples + 2), shift, mask, signBit, L.pixelRepresentation);
      v = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
    L.stored[p] = v;
  }
}

function unpack(raw: number, shift: number, mask: number, signBit: number, signed: 0 | 1): number {
  const v = Math.floor(raw / 2 ** shift) % (mask + 1);
  return signed && v >= signBit ? v - 2 * signBit : v;
}

/** DICOM PS3.3 C.11.2.1.2 windowing, output scaled to [0, 1]. */
export function applyWindow(src: Float64Array, dst: Float32Array, center: number, width: number, fn: string): void {
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!;
    let y: number;
    if (fn === 'SIGMOID') {
      y = 1 / (1 + Math.exp((-4 * (x - center)) / width));
    } else if (fn === 'LINEAR_EXACT') {
      y = x <= center - width / 2 ? 0 : x > center + width / 2 ? 1 : (x - center) / width + 0.5;
    } else {
      if (width < 1) width = 1;
      const lo = center - 0.5 - (width - 1) / 2, hi = center - 0.5 + (width - 1) / 2;
      y = x <= lo ? 0 : x > hi ? 1 : (x - (center - 0.5)) / (width - 1) + 0.5;
    }
    dst[i] = y;
  }
}

function applyVoiLut(item: DataSet, src: Float64Array, dst: Float32Array, bigEndian: boolean): void {
  // LUT Descriptor: number of entries (0 = 65536), first input value mapped, bits per entry. The second value is
  // signed when the input is (US or SS); dicom-parser reads US, so reinterpret values ≥ 2^15 as negative only if
  // the first mapped value would otherwise exceed every input.
  const count = item.uint16('x00283002', 0) || 65536;
  let first = item.uint16('x00283002', 1) ?? 0;
  const bits = item.uint16('x00283002', 2) ?? 16;
  let maxIn = -Infinity;
  for (const v of src) if (v > maxIn) maxIn = v;
  if (first >= 32768 && first > maxIn) first -= 65536;
  const dataEl = item.elements['x00283006'];
  if (!dataEl) throw new ImageDecodeError('VOI LUT item without LUT Data');
  const entryBytes = bits > 8 || dataEl.length >= count * 2 ? 2 : 1;
  const view = new DataView(item.byteArray.buffer, item.byteArray.byteOffset + dataEl.dataOffset, dataEl.length);
  const lut = new Float64Array(count);
  for (let i = 0; i < count && (i + 1) * entryBytes <= dataEl.length; i++) lut[i] = entryBytes === 2 ? view.getUint16(i * 2, !bigEndian) : view.getUint8(i);
  const maxOut = 2 ** bits - 1;
  for (let i = 0; i < src.length; i++) {
    const idx = Math.round(src[i]!) - first;
    const v = idx <= 0 ? lut[0]! : idx >= count - 1 ? lut[count - 1]! : lut[idx]!;
    dst[i] = v / maxOut;
  }
}
