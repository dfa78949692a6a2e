// Renders one phantom radiograph. Physics in outline: each layer is an attenuation density (soft tissue minus the
// air in the lungs, plus bone and lung content); the detector signal is 1 − exp(−k·D) (Beer–Lambert, so dense
// structures saturate and bone over the heart barely shows, as on film), then a display window and gamma. Rendering
// happens at ss× the target size and is area-averaged down (supersampling antialiasing); quantum noise and the
// heel effect are added at the target size so their grain is per pixel at every size.

import { createImage, type GrayImage } from '../../images/image.js';
import { resize } from '../../images/resize.js';
import { createRng, type Rng } from '../../images/rng.js';
import { paintBones, paintLungs, paintTissue, paintVariants, paintVessels, type Anatomy } from './anatomy.js';
import { paintFinding, type FindingPlan } from './lesions.js';
import { ramp, segmentDistance, Raster } from './raster.js';

export interface PhantomImageSpec {
  anatomy: Anatomy;
  plan: FindingPlan;
  /** Seed of everything that varies between images of one patient: pose, exposure, noise, markers. */
  imageSeed: string;
}

export const MIN_PHANTOM_SIZE = 16;
export const MAX_PHANTOM_SIZE = 512;

// 5×7 bitmaps of the lead side markers.
const GLYPHS: Record<'L' | 'R', string[]> = {
  R: ['11110', '10001', '10001', '11110', '10100', '10010', '10001'],
  L: ['10000', '10000', '10000', '10000', '10000', '10000', '11111'],
};

export function renderPhantom(spec: PhantomImageSpec, size: number): GrayImage {
  const rng = createRng(spec.imageSeed);
  const a = spec.anatomy;
  const pose = {
    angle: (rng.uniform(-5, 5) * Math.PI) / 180,
    scale: rng.uniform(0.92, 1.04),
    dx: rng.uniform(-0.03, 0.03),
    dy: rng.uniform(-0.03, 0.03),
  };
  const ss = 2;
  const n = size * ss;
  const r = new Raster(n, pose);
  const tissue = r.layer(), lung = r.layer(), post = r.layer(), ant = r.layer(), medulla = r.layer(), content = r.layer(), air = r.layer();
  paintTissue(r, tissue, a);
  paintLungs(r, lung, a);
  paintBones(r, post, ant, medulla, a);
  paintVessels(r, content, a, createRng(a.treeSeed));
  paintVariants(r, tissue, content, a);
  paintFinding(r, content, lung, a, spec.plan, createRng(spec.plan.seed));
  paintAir(r, air, a, rng);

  const k = rng.uniform(1.05, 1.45); // exposure: larger k = less penetration, whiter film
  const lo = rng.uniform(0.0, 0.05), hi = rng.uniform(0.8, 0.92);
  const gamma = rng.uniform(0.85, 1.2);
  // Detector signal at the supersampled resolution; the area downsample integrates it per output pixel (as a
  // detector element does), and the display window and gamma are applied after that, at the target size.
  const big = new Float32Array(n * n);
  for (let i = 0; i < big.length; i++) {
    const t = tissue[i]!, l = lung[i]!;
    const d = t * (1 - 0.8 * l) + post[i]! + ant[i]! - medulla[i]! + content[i]! * l - air[i]! * t;
    big[i] = d > 0 ? 1 - Math.exp(-k * d) : 0;
  }
  if (rng.chance(0.85)) paintMarker(big, n, rng, hi + 0.1 * (hi - lo));
  const small = resize(createImage(n, n, 8, big), size, size, { filter: 'area' });
  const out = small.data;
  for (let i = 0; i < out.length; i++) {
    const w = (out[i]! - lo) / (hi - lo);
    out[i] = w <= 0 ? 0 : w >= 1 ? 1 : Math.pow(w, gamma);
  }
  addNoise(small.data, size, rng);
  return small;
}

/** Trachea and main bronchi (air column in the mediastinum) and, on most films, the gastric bubble. */
function paintAir(r: Raster, air: Float32Array, a: Anatomy, rng: Rng): void {
  const e = Math.max(1.5 * r.px, 0.003);
  const carina = Math.min(a.hila[0][1], a.hila[1][1]) - 0.03;
  const dev = rng.uniform(-0.006, 0.006);
  r.paint(air, 0.45, 0, 0.55, carina + 0.01, (u, v) => {
    const x = 0.5 + dev * v;
    return 0.3 * ramp(0.011 - Math.abs(u - x), e) * ramp(carina - v, e);
  }, 'max');
  for (const side of [-1, 1] as const) {
    const [hq, hv] = a.hila[side < 0 ? 0 : 1];
    const x1 = 0.5 + side * (hq - 0.02), y1 = hv - 0.01;
    r.paint(air, Math.min(0.5, x1) - 0.02, carina - 0.02, Math.max(0.5, x1) + 0.02, y1 + 0.02, (u, v) => {
      const { d } = segmentDistance(u, v, 0.5 + dev * carina, carina, x1, y1);
      return 0.22 * ramp(0.007 - d, e);
    }, 'max');
  }
  if (rng.chance(0.7)) {
    const cx = 0.5 + a.wt * rng.uniform(0.35, 0.55), cy = a.yDome[1] + rng.uniform(0.035, 0.06);
    const rx = rng.uniform(0.035, 0.06), ry = rng.uniform(0.018, 0.03);
    r.paint(air, cx - rx, cy - ry, cx + rx, cy + ry, (u, v) => {
      const dd = Math.sqrt(((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2);
      // Flat fluid level below, dome above.
      return v > cy + ry * 0.3 ? 0 : 0.32 * ramp(1 - dd, 0.15);
    }, 'max');
  }
}

function paintMarker(img: Float32Array, n: number, rng: Rng, value: number): void {
  const letter = rng.chance(0.5) ? 'R' : 'L';
  // Convention: R on the patient's right (image left), L on the image right; a few films are marked oddly.
  const leftSide = (letter === 'R') !== rng.chance(0.1);
  const h = rng.uniform(0.035, 0.05);
  const cell = h / 7;
  const u0 = leftSide ? rng.uniform(0.03, 0.12) : rng.uniform(0.83, 0.92);
  const v0 = rng.uniform(0.03, 0.12);
  const glyph = GLYPHS[letter];
  for (let py = Math.floor(v0 * n); py < Math.ceil((v0 + h) * n); py++) {
    for (let px = Math.floor(u0 * n); px < Math.ceil((u0 + 5 * cell) * n); px++) {
      const gx = Math.floor(((px + 0.5) / n - u0) / cell), gy = Math.floor(((py + 0.5) / n - v0) / cell);
      if (gx < 0 || gy < 0 || gx > 4 || gy > 6 || px < 0 || py < 0 || px >= n || py >= n) continue;
      if (glyph[gy]![gx] === '1') img[py * n + px] = value; // lead: fully attenuating, white on the film
    }
  }
}

function addNoise(d: Float32Array, size: number, rng: Rng): void {
  const sigma = rng.uniform(0.006, 0.024);
  const heel = rng.uniform(-0.04, 0.04); // anode heel effect: a gentle top-to-bottom exposure gradient
  for (let y = 0; y < size; y++) {
    const g = heel * (y / size - 0.5);
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const v = d[i]!;
      const val = v + g * v + sigma * (0.5 + 0.5 * Math.sqrt(v)) * rng.normal();
      d[i] = val <= 0 ? 0 : val >= 1 ? 1 : val;
    }
  }
}
