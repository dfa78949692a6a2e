// The built-in phantom dataset: a deterministic plan (patients, their anatomy and finding, 1–3 images each) from a
// seed and per-class image counts, and lazy rendering of any image at any size. Planning is cheap, so callers can
// split or page through a dataset without rendering it; rendering one image never depends on another.
// Patient ids are numbered after a seeded shuffle across classes, so an id says nothing about the finding.

import { createRng, type Seed } from '../../images/rng.js';
import type { GrayImage } from '../../images/image.js';
import { DatasetInputError, FINDINGS, STUDY_COUNTS, type Finding, type FindingCounts } from '../findings.js';
import { sampleAnatomy } from './anatomy.js';
import { planFinding } from './lesions.js';
import { MAX_PHANTOM_SIZE, MIN_PHANTOM_SIZE, renderPhantom, type PhantomImageSpec } from './render.js';

export interface PhantomOptions {
  seed?: Seed;
  /** Per-class image counts; missing classes get the study's count. Default: the study's counts (1082 images). */
  counts?: Partial<FindingCounts>;
}

export interface PhantomRecord {
  /** Stable image id, `<patientId>-<k>`. */
  id: string;
  patientId: string;
  finding: Finding;
  /** 0 for healthy; 0–1 for disease (how visible the finding is). */
  severity: number;
  /** Index of this image among its patient's images (0-based). */
  view: number;
  spec: PhantomImageSpec;
}

export const DEFAULT_PHANTOM_SIZE = 64;
export const DEFAULT_PHANTOM_SEED = 'cxr-synth-phantom-v1';

export function validatePhantomSize(size: number): void {
  if (!Number.isInteger(size) || size < MIN_PHANTOM_SIZE || size > MAX_PHANTOM_SIZE) {
    throw new DatasetInputError(`phantom size must be an integer from ${MIN_PHANTOM_SIZE} to ${MAX_PHANTOM_SIZE}, got ${size}`);
  }
}

export function planPhantomDataset(options: PhantomOptions = {}): PhantomRecord[] {
  const seed = options.seed ?? DEFAULT_PHANTOM_SEED;
  const counts: FindingCounts = { ...STUDY_COUNTS, ...options.counts };
  for (const f of FINDINGS) {
    const c = counts[f];
    if (!Number.isInteger(c) || c < 0 || c > 1_000_000) throw new DatasetInputError(`count for ${f} must be an integer 0…1000000, got ${c}`);
  }
  const root = createRng(seed);
  // Patients per class: 1–3 images each (60% one, 28% two, 12% three), the last one trimmed to hit the count.
  const patients: { finding: Finding; images: number; key: string }[] = [];
  for (const f of FINDINGS) {
    const rng = root.fork(`patients/${f}`);
    let left = counts[f];
    let i = 0;
    while (left > 0) {
      const x = rng.next();
      const k = Math.min(left, x < 0.6 ? 1 : x < 0.88 ? 2 : 3);
      patients.push({ finding: f, images: k, key: `${f}/${i++}` });
      left -= k;
    }
  }
  root.fork('patient-order').shuffle(patients);
  const width = Math.max(4, String(patients.length).length);
  const records: PhantomRecord[] = [];
  patients.forEach((p, idx) => {
    const patientId = `P${String(idx + 1).padStart(width, '0')}`;
    const prng = root.fork(`patient/${p.key}`);
    const anatomy = sampleAnatomy(prng.fork('anatomy'));
    const plan = planFinding(p.finding, prng.fork('finding'));
    for (let k = 0; k < p.images; k++) {
      records.push({
        id: `${patientId}-${k + 1}`,
        patientId,
        finding: p.finding,
        severity: plan.severity,
        view: k,
        spec: { anatomy, plan, imageSeed: `${String(seed)}/image/${p.key}/${k}` },
      });
    }
  });
  return records;
}

export function renderPhantomRecord(record: PhantomRecord, size = DEFAULT_PHANTOM_SIZE): GrayImage {
  validatePhantomSize(size);
  return renderPhantom(record.spec, size);
}

/** Plan and render every image in order. */
export function* generatePhantomImages(options: PhantomOptions & { size?: number } = {}): Generator<{ record: PhantomRecord; image: GrayImage }> {
  const size = options.size ?? DEFAULT_PHANTOM_SIZE;
  validatePhantomSize(size);
  for (const record of planPhantomDataset(options)) yield { record, image: renderPhantom(record.spec, size) };
}
