import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { encodePng } from '../../shared/images/png.js';
import { toUint8, toUint16, type GrayImage } from '../../shared/images/image.js';
import { planPhantomDataset, renderPhantomRecord } from '../../shared/data/phantom/index.js';
import { DatasetInputError } from '../../shared/data/findings.js';
import {
  importCovidCollection, importCsv, importFolder, mapCovidCollectionFinding, parseCsv,
  type ImageSink, type ImportedImageMeta,
} from '../../shared/data/importers/index.js';

/** A real sink that keeps what it is given (stands in for nothing: it is the interface's simplest implementation). */
class MemorySink implements ImageSink {
  readonly items: { image: GrayImage; meta: ImportedImageMeta }[] = [];
  async put(image: GrayImage, meta: ImportedImageMeta): Promise<void> {
    this.items.push({ image, meta });
  }
}

const salt = 'importer-test-salt';
let root: string;
const phantom = planPhantomDataset({ seed: 'importer', counts: { healthy: 3, bacterial: 2, viral: 1, fungal: 1, covid19: 2 } });
const img = (i: number) => renderPhantomRecord(phantom[i]!, 32);

function png8(g: GrayImage) { return encodePng({ width: g.width, height: g.height, bitDepth: 8, data: toUint8(g) }); }
function png16(g: GrayImage) { return encodePng({ width: g.width, height: g.height, bitDepth: 16, data: toUint16(g) }); }
function jpg(g: GrayImage) {
  const rgba = new Uint8Array(g.width * g.height * 4);
  toUint8(g).forEach((v, i) => rgba.set([v, v, v, 255], i * 4));
  return new Uint8Array(jpeg.encode({ width: g.width, height: g.height, data: rgba }, 95).data);
}
const dicomFixture = (f: string) => readFileSync(new URL(`../fixtures/dicom/${f}`, import.meta.url));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cxr-import-'));
  const f = join(root, 'folders');
  for (const d of ['NORMAL', 'covid-19', 'Bacterial', 'V', 'unknown-stuff']) mkdirSync(join(f, d), { recursive: true });
  writeFileSync(join(f, 'NORMAL', 'P1_a.png'), png8(img(0)));
  writeFileSync(join(f, 'NORMAL', 'P1_b.png'), png16(img(1)));
  writeFileSync(join(f, 'NORMAL', 'notes.txt'), 'not an image');
  writeFileSync(join(f, 'NORMAL', 'broken.png'), png8(img(2)).subarray(0, 60));
  writeFileSync(join(f, 'covid-19', 'P2_x.jpg'), jpg(img(3)));
  writeFileSync(join(f, 'covid-19', 'jpegish.jpg'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0, 1]));
  writeFileSync(join(f, 'Bacterial', 'film.dcm'), dicomFixture('jpeg_baseline_cr.dcm'));
  writeFileSync(join(f, 'Bacterial', 'rle.dcm'), dicomFixture('MR_small_RLE.dcm'));
  mkdirSync(join(f, 'V', 'nested'));
  writeFileSync(join(f, 'V', 'nested', 'P3_1.png'), png8(img(4)));
  writeFileSync(join(f, 'unknown-stuff', 'P9.png'), png8(img(5)));
  mkdirSync(join(root, 'noclass', 'misc'), { recursive: true });

  const c = join(root, 'csv');
  mkdirSync(join(c, 'imgs'), { recursive: true });
  writeFileSync(join(c, 'imgs', 'a.png'), png8(img(0)));
  writeFileSync(join(c, 'imgs', 'b.png'), png16(img(1)));
  writeFileSync(join(c, 'imgs', 'c.jpg'), jpg(img(2)));
  writeFileSync(join(c, 'list.csv'),
    'Path,Label,Patient\n' +
    'imgs/a.png,healthy,p1\n' +
    '"imgs/b.png","Healthy","p1"\n' +
    'imgs/c.jpg,COVID-19,p2\n' +
    'imgs/missing.png,viral,p3\n' +
    'imgs/a.png,pneumothorax,p4\n' +
    'imgs/a.png,viral\n' +
    '../../etc/passwd,viral,p5\n');
  writeFileSync(join(c, 'bad-header.csv'), 'file_name,diagnosis_code,who\nimgs/a.png,healthy,p1\n');

  const cc = join(root, 'covid-collection');
  mkdirSync(join(cc, 'images'), { recursive: true });
  for (const [n, i] of [['1.png', 0], ['2.jpg', 3], ['3.png', 4], ['4.png', 5], ['5.png', 6], ['6.png', 7], ['7.png', 8]] as const) {
    writeFileSync(join(cc, 'images', n), n.endsWith('.jpg') ? jpg(img(i)) : png8(img(i)));
  }
  writeFileSync(join(cc, 'metadata.csv'),
    'patientid,offset,sex,age,finding,RT_PCR_positive,survival,intubated,view,modality,date,location,folder,filename,doi,url,license,clinical_notes,other_notes\n' +
    '2,0,M,65,Pneumonia/Viral/COVID-19,Y,,,PA,X-ray,"January 22, 2020",China,images,1.png,,,,"fever, cough",\n' +
    '2,3,M,65,Pneumonia/Viral/COVID-19,Y,,,AP Supine,X-ray,2020,China,images,2.jpg,,,,,\n' +
    '7,,F,40,Pneumonia/Bacterial/Streptococcus,,,,PA,X-ray,,,images,3.png,,,,,\n' +
    '8,,F,40,Pneumonia/Fungal/Pneumocystis,,,,AP,X-ray,,,images,4.png,,,,,\n' +
    '9,,F,40,No Finding,,,,PA,X-ray,,,images,5.png,,,,,\n' +
    '10,,M,50,Pneumonia/Viral/SARS,,,,L,X-ray,,,images,6.png,,,,,\n' +
    '11,,M,50,Tuberculosis,,,,PA,X-ray,,,images,7.png,,,,,\n' +
    '12,,M,50,Pneumonia/Viral/COVID-19,,,,Axial,CT,,,volumes,x.nii.gz,,,,,\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('folder-per-class import', () => {
  it('imports PNG 8/16, JPEG and DICOM by class folder, reports every skip, never crashes', async () => {
    const sink = new MemorySink();
    const report = await importFolder(join(root, 'folders'), sink, { salt, patientPattern: /^(P\d+)_/ });
    expect(report.counts).toEqual({ healthy: 2, bacterial: 1, viral: 1, fungal: 0, covid19: 1 });
    expect(report.imported).toBe(5);
    expect(sink.items).toHaveLength(5);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.path, s.reason]));
    expect(reasons['unknown-stuff/']).toMatch(/not a known class/);
    expect(reasons[join('NORMAL', 'notes.txt')]).toMatch(/not a PNG, JPEG or DICOM/);
    expect(reasons[join('NORMAL', 'broken.png')]).toMatch(/PNG/i);
    expect(reasons[join('covid-19', 'jpegish.jpg')]).toMatch(/JPEG/);
    expect(reasons[join('Bacterial', 'rle.dcm')]).toMatch(/1\.2\.840\.10008\.1\.2\.5.*RLE/);
    const bits = sink.items.map((i) => `${i.meta.format}:${i.image.bitDepth}`).sort();
    expect(bits).toEqual(['dicom:8', 'jpeg:8', 'png:16', 'png:8', 'png:8']);
    // P1_a and P1_b are one patient; pseudonyms only, never the source key.
    const healthy = sink.items.filter((i) => i.meta.finding === 'healthy');
    expect(healthy[0]!.meta.patientId).toBe(healthy[1]!.meta.patientId);
    for (const i of sink.items) expect(i.meta.patientId).toMatch(/^anon-[0-9a-f]{24}$/);
    // 16-bit PNG pixels arrive at full precision.
    const p16 = sink.items.find((i) => i.image.bitDepth === 16)!;
    expect(Array.from(toUint16(p16.image))).toEqual(Array.from(toUint16(img(1))));
  });

  it('leaves no identifying DICOM value in anything handed to the sink', async () => {
    const sink = new MemorySink();
    await importFolder(join(root, 'folders'), sink, { salt });
    const dicom = sink.items.find((i) => i.meta.format === 'dicom')!;
    const text = JSON.stringify(dicom.meta);
    for (const v of ['Doe', 'Jane', 'MRN-0042-XYZ', '19610203', 'ACC-998877', 'Ulm General', '20230405']) expect(text).not.toContain(v);
    expect(dicom.meta.view).toBe('PA');
    expect(dicom.meta.modality).toBe('CR');
  });

  it('a custom class map wins; a folder with no recognisable class is INVALID_ARGUMENT', async () => {
    const sink = new MemorySink();
    const report = await importFolder(join(root, 'folders'), sink, { salt, classMap: { 'unknown-stuff': 'fungal' } });
    expect(report.counts.fungal).toBe(1);
    await expect(importFolder(join(root, 'noclass'), sink, { salt })).rejects.toThrow(DatasetInputError);
    await expect(importFolder(join(root, 'noclass'), sink, { salt })).rejects.toThrow(/found: misc/);
    await expect(importFolder(join(root, 'does-not-exist'), sink, { salt })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('CSV import', () => {
  it('parses quoted CSV', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n\n1,2')).toEqual([['a', 'b'], ['x, y', 'say "hi"'], ['1', '2']]);
  });

  it('imports rows by path/label/patient and skips bad rows with their line', async () => {
    const sink = new MemorySink();
    const report = await importCsv(join(root, 'csv', 'list.csv'), sink, { salt });
    expect(report.counts).toEqual({ healthy: 2, bacterial: 0, viral: 0, fungal: 0, covid19: 1 });
    const skipped = report.skipped.map((s) => `${s.path} :: ${s.reason}`);
    expect(skipped.some((s) => s.startsWith('line 5') && /cannot read file: ENOENT/.test(s))).toBe(true);
    expect(skipped.some((s) => s.startsWith('line 6') && /pneumothorax/.test(s))).toBe(true);
    expect(skipped.some((s) => s.startsWith('line 7') && /2 fields, header has 3/.test(s))).toBe(true);
    expect(skipped.some((s) => s.startsWith('line 8') && /leaves the dataset folder/.test(s))).toBe(true);
    const [a, b, c] = sink.items;
    expect(a!.meta.patientId).toBe(b!.meta.patientId);
    expect(a!.meta.patientId).not.toBe(c!.meta.patientId);
  });

  it('a header without the needed columns is INVALID_ARGUMENT naming them', async () => {
    const err = await importCsv(join(root, 'csv', 'bad-header.csv'), new MemorySink(), { salt }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetInputError);
    expect((err as Error).message).toMatch(/missing path .*label .*patient/);
    expect((err as Error).message).toContain('"file_name"');
  });
});

describe('COVID-19 chest X-ray collection preset', () => {
  it('maps the hierarchical findings', () => {
    expect(mapCovidCollectionFinding('Pneumonia/Viral/COVID-19')).toBe('covid19');
    expect(mapCovidCollectionFinding('Pneumonia/Viral/Influenza')).toBe('viral');
    expect(mapCovidCollectionFinding('Pneumonia/Bacterial/Klebsiella')).toBe('bacterial');
    expect(mapCovidCollectionFinding('Pneumonia/Fungal/Aspergillosis')).toBe('fungal');
    expect(mapCovidCollectionFinding('No Finding')).toBe('healthy');
    expect(mapCovidCollectionFinding('Pneumonia')).toBeUndefined();
    expect(mapCovidCollectionFinding('Tuberculosis')).toBeUndefined();
  });

  it('imports frontal X-rays of the five classes only, grouping by patientid', async () => {
    const sink = new MemorySink();
    const report = await importCovidCollection(join(root, 'covid-collection', 'metadata.csv'), sink, { salt });
    expect(report.counts).toEqual({ healthy: 1, bacterial: 1, viral: 0, fungal: 1, covid19: 2 });
    const reasons = report.skipped.map((s) => s.reason).join('\n');
    expect(reasons).toMatch(/view 'L' is not frontal/);
    expect(reasons).toMatch(/Tuberculosis/);
    expect(reasons).toMatch(/modality 'CT' is not X-ray/);
    const covid = sink.items.filter((i) => i.meta.finding === 'covid19');
    expect(covid[0]!.meta.patientId).toBe(covid[1]!.meta.patientId);
  });
});
