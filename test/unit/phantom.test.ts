import { describe, expect, it } from 'vitest';
import { planPhantomDataset, renderPhantomRecord, renderPhantom, storePhantomDataset, type PhantomRecord } from '../../shared/data/phantom/index.js';
import type { ImportedImageMeta } from '../../shared/data/importers/index.js';
import { DatasetInputError, STUDY_COUNTS, FINDINGS, parseCounts, type Finding } from '../../shared/data/findings.js';
import { toUint8, type GrayImage } from '../../shared/images/image.js';

const small = { healthy: 6, bacterial: 6, viral: 6, fungal: 6, covid19: 6 };

/** Mean intensity over a patch given in unit coordinates. */
function patch(img: GrayImage, u0: number, v0: number, u1: number, v1: number): number {
  let s = 0, n = 0;
  for (let y = Math.floor(v0 * img.height); y < v1 * img.height; y++) {
    for (let x = Math.floor(u0 * img.width); x < u1 * img.width; x++) { s += img.data[y * img.width + x]!; n++; }
  }
  return s / n;
}

function withFinding(rec: PhantomRecord, finding: Finding): PhantomRecord {
  return { ...rec, spec: { ...rec.spec, plan: { ...rec.spec.plan, finding, severity: 0.9 } } };
}

describe('phantom dataset plan', () => {
  it('defaults to the study counts, 1–3 images per patient, one finding per patient, ids that hide the class', () => {
    const recs = planPhantomDataset();
    expect(recs).toHaveLength(1082);
    for (const f of FINDINGS) expect(recs.filter((r) => r.finding === f)).toHaveLength(STUDY_COUNTS[f]);
    const byPatient = new Map<string, PhantomRecord[]>();
    for (const r of recs) byPatient.set(r.patientId, [...(byPatient.get(r.patientId) ?? []), r]);
    expect(byPatient.size).toBeGreaterThan(600);
    expect(byPatient.size).toBeLessThan(1000);
    for (const imgs of byPatient.values()) {
      expect(imgs.length).toBeGreaterThanOrEqual(1);
      expect(imgs.length).toBeLessThanOrEqual(3);
      expect(new Set(imgs.map((i) => i.finding)).size).toBe(1);
    }
    expect(new Set(recs.map((r) => r.id)).size).toBe(recs.length);
    for (const r of recs) expect(r.patientId).toMatch(/^P\d+$/);
    // Several images exist for some patients.
    expect([...byPatient.values()].some((v) => v.length === 3)).toBe(true);
  });

  it('honours custom counts and rejects bad ones', () => {
    const recs = planPhantomDataset({ counts: parseCounts('h=3,b=2,v=0,f=1,c=4') });
    expect(recs.map((r) => r.finding).sort()).toEqual(['bacterial', 'bacterial', 'covid19', 'covid19', 'covid19', 'covid19', 'fungal', 'healthy', 'healthy', 'healthy']);
    expect(() => planPhantomDataset({ counts: { healthy: -1 } })).toThrow(DatasetInputError);
    expect(() => parseCounts('x=3')).toThrow(/unknown finding 'x'/);
    expect(() => parseCounts('h=three')).toThrow(DatasetInputError);
  });
});

describe('phantom rendering', () => {
  it('is deterministic: same seed → same bytes; another seed → different images', () => {
    const a = planPhantomDataset({ seed: 7, counts: small });
    const b = planPhantomDataset({ seed: 7, counts: small });
    const c = planPhantomDataset({ seed: 8, counts: small });
    for (let i = 0; i < 5; i++) {
      expect(Buffer.from(toUint8(renderPhantomRecord(a[i]!, 64))).equals(Buffer.from(toUint8(renderPhantomRecord(b[i]!, 64))))).toBe(true);
      expect(Buffer.from(toUint8(renderPhantomRecord(a[i]!, 64))).equals(Buffer.from(toUint8(renderPhantomRecord(c[i]!, 64))))).toBe(false);
    }
  });

  it('renders any size from 16 to 512 and rejects others', () => {
    const [rec] = planPhantomDataset({ counts: { healthy: 1, bacterial: 0, viral: 0, fungal: 0, covid19: 0 } });
    for (const size of [16, 64, 200, 512]) {
      const img = renderPhantomRecord(rec!, size);
      expect([img.width, img.height, img.data.length]).toEqual([size, size, size * size]);
      let lo = Infinity, hi = -Infinity;
      for (const v of img.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(hi - lo).toBeGreaterThan(0.5); // a real picture, not a flat field
    }
    expect(() => renderPhantomRecord(rec!, 8)).toThrow(DatasetInputError);
    expect(() => renderPhantomRecord(rec!, 1024)).toThrow(DatasetInputError);
  });

  it('has radiographic anatomy: air outside dark, lungs dark, mediastinum/heart and abdomen bright', () => {
    const recs = planPhantomDataset({ seed: 'anatomy', counts: { ...small, healthy: 12 } }).filter((r) => r.finding === 'healthy');
    let outside = 0, lungs = 0, heart = 0, abdomen = 0;
    for (const r of recs) {
      const img = renderPhantomRecord(r, 96);
      outside += patch(img, 0, 0.85, 0.03, 1);
      lungs += (patch(img, 0.25, 0.35, 0.33, 0.5) + patch(img, 0.7, 0.35, 0.78, 0.5)) / 2;
      heart += patch(img, 0.5, 0.52, 0.58, 0.6);
      abdomen += patch(img, 0.4, 0.9, 0.6, 0.97);
    }
    expect(outside).toBeLessThan(lungs);
    expect(lungs * 1.6).toBeLessThan(heart);
    expect(lungs * 1.6).toBeLessThan(abdomen);
  });

  it('paints each finding inside the lungs where the study describes it', () => {
    // Same patient, same film (pose, exposure, noise): only the finding differs, so the difference is the lesion.
    const recs = planPhantomDataset({ seed: 'lesions', counts: { healthy: 10, bacterial: 0, viral: 0, fungal: 0, covid19: 0 } });
    const size = 96;
    const zones = (f: Finding) => {
      let periphLow = 0, perihilar = 0, outside = 0, left = 0, right = 0, maxDiff = 0;
      for (const r of recs) {
        const base = renderPhantom(r.spec, size).data;
        const ill = renderPhantom(withFinding(r, f).spec, size).data;
        for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
          const d = ill[y * size + x]! - base[y * size + x]!;
          const u = (x + 0.5) / size, v = (y + 0.5) / size;
          maxDiff = Math.max(maxDiff, Math.abs(d));
          if (u < 0.06 || u > 0.94) outside += Math.abs(d);
          if (u < 0.5) left += Math.max(0, d); else right += Math.max(0, d);
          const q = Math.abs(u - 0.5);
          if (q > 0.22 && v > 0.5 && v < 0.75) periphLow += d;
          if (q > 0.07 && q < 0.17 && v > 0.33 && v < 0.5) perihilar += d;
        }
      }
      return { periphLow, perihilar, outside, left, right, maxDiff };
    };
    const covid = zones('covid19');
    const viral = zones('viral');
    for (const z of [covid, viral]) {
      expect(z.outside).toBe(0);
      expect(Math.min(z.left, z.right) / Math.max(z.left, z.right)).toBeGreaterThan(0.3); // bilateral
    }
    expect(covid.periphLow / covid.perihilar).toBeGreaterThan(viral.periphLow / viral.perihilar);
    const fungal = zones('fungal');
    expect(fungal.maxDiff).toBeGreaterThan(0.2); // discrete dense nodules
    expect(fungal.outside).toBe(0);
    // Lobar consolidation: one side per patient.
    let oneSided = 0;
    for (const r of recs) {
      const base = renderPhantom(r.spec, size).data;
      const ill = renderPhantom(withFinding(r, 'bacterial').spec, size).data;
      let l = 0, rr = 0;
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        const d = Math.max(0, ill[y * size + x]! - base[y * size + x]!);
        if (x < size / 2) l += d; else rr += d;
      }
      expect(l + rr).toBeGreaterThan(0);
      if (Math.min(l, rr) < 0.1 * Math.max(l, rr)) oneSided++;
    }
    expect(oneSided).toBeGreaterThanOrEqual(9);
  });
});

describe('storing the phantom dataset', () => {
  it('puts every image into the sink with finding, patient id and its plan id, in plan order', async () => {
    const got: { image: GrayImage; meta: ImportedImageMeta }[] = [];
    const sink = { put: async (image: GrayImage, meta: ImportedImageMeta) => { got.push({ image, meta }); } };
    const counts = { healthy: 3, bacterial: 2, viral: 1, fungal: 1, covid19: 1 };
    const report = await storePhantomDataset(sink, { seed: 's', size: 24, counts });
    expect(report.counts).toEqual(counts);
    expect(report.imported).toBe(8);
    const plan = planPhantomDataset({ seed: 's', counts });
    expect(got.map((g) => g.meta.sourceId)).toEqual(plan.map((p) => p.id));
    expect(got.map((g) => g.meta.patientId)).toEqual(plan.map((p) => p.patientId));
    expect(Buffer.from(toUint8(got[0]!.image)).equals(Buffer.from(toUint8(renderPhantomRecord(plan[0]!, 24))))).toBe(true);
    await expect(storePhantomDataset(sink, { size: 4 })).rejects.toThrow(DatasetInputError);
  });
});
