// The patient's anatomy in the patient frame (unit square; image left = patient right, as on a PA film read
// facing the patient) and the painters that lay it into density layers:
//   tissue  — soft-tissue thickness of the body (neck, shoulders, chest wall, abdomen below the diaphragm, arms)
//   lung    — aerated-lung coverage 0…1 (two lung fields minus heart and aortic knob, above the diaphragm domes)
//   bone    — spine, clavicles, posterior and anterior rib arcs, humeral heads
//   content — what lives inside the lungs (hilar vessels, vascular tree, and later the findings); it is multiplied
//             by `lung` when composed, so nothing pathological appears outside the lung fields.
// Dimensions are fractions of the image width; ranges follow adult PA radiographs (cardiothoracic ratio 0.38–0.52,
// right hemidiaphragm 1–3.5% of the height higher than the left, ten posterior ribs above the diaphragm).

import type { Rng } from '../../images/rng.js';
import { ramp, segmentDistance, type Layer, type Raster } from './raster.js';

export interface Anatomy {
  /** Half-width of the rib cage at the bases. */
  wt: number;
  /** Lung apex level. */
  yApex: number;
  /** Costophrenic angle level. */
  yCosto: number;
  /** Hemidiaphragm dome levels: [patient right (image left), patient left (image right)]. */
  yDome: [number, number];
  /** Cardiothoracic ratio (heart width / thoracic width). */
  ctr: number;
  heartTilt: number;
  heartHeight: number;
  /** Half-width of the superior mediastinum. */
  mediastinum: number;
  /** Soft-tissue thickness factor (habitus). */
  tissue: number;
  /** Body wall beyond the ribs. */
  bodyMargin: number;
  arms: boolean;
  /** Breast shadow density (0 = none). */
  breast: number;
  /** Hilum position (distance from midline, level) per side. */
  hila: [[number, number], [number, number]];
  /** Scale of vascular markings. */
  vessels: number;
  /** Seeds for structure that must be identical on every image of this patient. */
  treeSeed: number;
  /** Calcified granuloma (healthy variant that mimics a nodule): [side, q, v, r] or null. */
  granuloma: [number, number, number, number] | null;
  /** Plate atelectasis band at a base (healthy variant): [side, v] or null. */
  plate: [number, number] | null;
}

export function sampleAnatomy(rng: Rng): Anatomy {
  const female = rng.chance(0.5);
  const wt = rng.uniform(0.33, 0.4);
  const yApex = rng.uniform(0.12, 0.17);
  const yDomeR = rng.uniform(0.63, 0.71);
  const yDomeL = yDomeR + rng.uniform(0.01, 0.035);
  const yCosto = Math.max(yDomeL + 0.06, rng.uniform(0.76, 0.83));
  const hilumLevel = yApex + rng.uniform(0.24, 0.29);
  return {
    wt,
    yApex,
    yCosto,
    yDome: [yDomeR, yDomeL],
    ctr: rng.uniform(0.38, 0.52),
    heartTilt: rng.uniform(0.25, 0.5),
    heartHeight: rng.uniform(0.1, 0.13),
    mediastinum: rng.uniform(0.045, 0.06),
    tissue: rng.uniform(0.9, 1.2),
    bodyMargin: rng.uniform(0.035, 0.09),
    arms: false,
    breast: female && rng.chance(0.7) ? rng.uniform(0.06, 0.2) : 0,
    hila: [
      [rng.uniform(0.085, 0.11), hilumLevel + rng.uniform(0.005, 0.025)],
      [rng.uniform(0.085, 0.11), hilumLevel - rng.uniform(0, 0.02)],
    ],
    vessels: rng.uniform(0.75, 1.35),
    treeSeed: rng.int(0, 2 ** 31),
    granuloma: rng.chance(0.12) ? [rng.chance(0.5) ? -1 : 1, rng.uniform(0.3, 0.8) * wt, rng.uniform(yApex + 0.08, yDomeR - 0.05), rng.uniform(0.005, 0.009)] : null,
    plate: rng.chance(0.08) ? [rng.chance(0.5) ? -1 : 1, yDomeR - rng.uniform(0.02, 0.06)] : null,
  };
}

/** side: −1 = image left (patient right), +1 = image right (patient left). */
export type Side = -1 | 1;

/** Lateral lung border (distance from midline) at level v. */
export function lateralBorder(a: Anatomy, v: number): number {
  const t = Math.min(1, Math.max(0, (v - a.yApex) / (a.yCosto - a.yApex)));
  return a.wt * (0.4 + 0.6 * (1 - (1 - t) ** 3));
}

/** Diaphragm level under the lung at distance q from the midline. */
export function diaphragmAt(a: Anatomy, side: Side, q: number): number {
  const dome = a.yDome[side < 0 ? 0 : 1];
  const qd = 0.42 * a.wt;
  if (q >= qd) {
    const t = (q - qd) / (a.wt - qd);
    return dome + (a.yCosto - dome) * t * t;
  }
  const t = (qd - q) / qd;
  return dome + 0.03 * t * t;
}

/** Aerated-lung coverage of one side at (u, v), before the heart is removed. */
export function lungField(a: Anatomy, side: Side, u: number, v: number, e: number): number {
  const q = side * (u - 0.5);
  if (q <= 0) return 0;
  const qa = 0.42 * a.wt;
  const k = (q - qa) / (0.4 * a.wt);
  const top = a.yApex + 0.07 * k * k;
  const med = a.mediastinum + (side > 0 ? 0.008 : 0);
  const soft = Math.max(e, 0.009); // pleural edges are soft on film; the diaphragm and mediastinum are crisper
  return ramp(q - med, e) * ramp(lateralBorder(a, v) - q, soft) * ramp(v - top, soft) * ramp(diaphragmAt(a, side, q) - v, e);
}

export interface HeartShape {
  top: number;
  bottom: number;
  /** Right heart border (image left) and left heart border (image right), distance from the midline at their widest. */
  right: number;
  left: number;
}

export function heartShape(a: Anatomy): HeartShape {
  const hw = a.ctr * 2 * a.wt;
  return { top: Math.min(a.hila[0][1], a.hila[1][1]) - 0.03, bottom: a.yDome[1] + 0.03, right: 0.3 * hw, left: 0.7 * hw };
}

/**
 * Cardiac silhouette coverage: a pear shape — narrow vascular pedicle on top, the right atrial border bulging
 * gently to the image left, the left ventricle sweeping out to the apex just above the left dome.
 */
export function heartCoverage(h: HeartShape, a: Anatomy, u: number, v: number, e: number): number {
  if (v < h.top - 0.02 || v > h.bottom + 0.02) return 0;
  const t = Math.min(1, Math.max(0, (v - h.top) / (h.bottom - h.top)));
  const base = a.mediastinum * 0.9;
  const fr = Math.sin((Math.PI / 2) * Math.min(1, t / 0.7)) ** 0.6 * (1 - 0.12 * Math.max(0, (t - 0.72) / 0.28));
  const fl = Math.sin((Math.PI / 2) * Math.min(1, t / 0.82)) ** 0.55 * (1 - 0.3 * Math.max(0, (t - 0.82) / 0.18) ** 2);
  const x = u - 0.5;
  const border = x < 0 ? base + (h.right - base) * fr : base + (h.left - base) * fl;
  return ramp(border - Math.abs(x), e) * ramp(v - h.top, 0.02);
}

export function paintTissue(r: Raster, layer: Layer, a: Anatomy): void {
  const e = Math.max(1.5 * r.px, 0.004);
  const full = a.wt + a.bodyMargin;
  const neck = 0.075;
  r.paintAll(layer, (u, v) => {
    const q = Math.abs(u - 0.5);
    // Shoulder line: from the neck at the top edge sloping down and out to the acromion, then the chest wall.
    const top = q < neck ? -1 : a.yApex - 0.1 + 0.1 * Math.min(1, (q - neck) / (full - neck)) ** 1.3;
    let t = 0;
    if (q < full + 2 * e) {
      const p = Math.max(0, 1 - (q / (full + 0.03)) ** 2);
      const prof = Math.sqrt(p * Math.sqrt(p)); // p^0.75, cheaper than Math.pow
      const neckPart = q < neck + 0.02 ? ramp(neck - q, 0.01) : 0;
      const trunk = ramp(v - top, 0.012) * ramp(full + 0.02 * Math.max(0, v - 0.5) - q, e);
      t = a.tissue * (0.22 + 0.78 * prof) * Math.max(trunk, neckPart);
    }
    return t;
  });
}

export function paintLungs(r: Raster, layer: Layer, a: Anatomy): void {
  const e = Math.max(1.5 * r.px, 0.004);
  const h = heartShape(a);
  const knobX = 0.5 + a.mediastinum + 0.002, knobY = h.top - 0.045, knobR = 0.022;
  r.paint(layer, 0.5 - a.wt - 0.02, a.yApex - 0.02, 0.5 + a.wt + 0.02, a.yCosto + 0.02, (u, v) => {
    const cov = u < 0.5 ? lungField(a, -1, u, v, e) : lungField(a, 1, u, v, e);
    if (cov === 0) return 0;
    const heart = heartCoverage(h, a, u, v, e);
    const d = Math.hypot(u - knobX, v - knobY);
    const knob = ramp(knobR - d, e);
    return cov * (1 - heart) * (1 - knob);
  });
}

/**
 * A polyline stroke, painted segment by segment with max: max over segments of a monotone coverage equals the
 * coverage of the nearest segment, so bends are seamless and each pixel is visited only near the line.
 */
export function paintStroke(r: Raster, layer: Layer, pts: readonly (readonly [number, number])[], radius: number, density: number): void {
  const e = Math.max(r.px, 0.002);
  const pad = radius + e;
  for (let i = 0; i + 1 < pts.length; i++) {
    const [ax, ay] = pts[i]!, [bx, by] = pts[i + 1]!;
    r.paint(layer, Math.min(ax, bx) - pad, Math.min(ay, by) - pad, Math.max(ax, bx) + pad, Math.max(ay, by) + pad, (u, v) => {
      const d = segmentDistance(u, v, ax, ay, bx, by).d;
      return d > pad ? 0 : density * ramp(radius - d, e);
    }, 'max');
  }
}

/** A bone with a cortical rim: the full shaft into `bone`, a fainter medullary core into `medulla` (subtracted). */
export function paintCorticalStroke(r: Raster, bone: Layer, medulla: Layer, pts: readonly (readonly [number, number])[], radius: number, density: number): void {
  paintStroke(r, bone, pts, radius, density);
  paintStroke(r, medulla, pts, radius * 0.6, density * 0.4);
}

export function paintBones(r: Raster, post: Layer, ant: Layer, medulla: Layer, a: Anatomy): void {
  const e = Math.max(1.5 * r.px, 0.003);
  // Spine: vertebral bodies with darker disc spaces, pedicle ovals either side.
  r.paint(post, 0.45, 0, 0.55, 1, (u, v) => {
    const q = Math.abs(u - 0.5);
    if (q > 0.034) return 0;
    const ph = (v / 0.045) % 1;
    const disc = 0.78 + 0.22 * Math.min(1, Math.abs(ph - 0.5) * 4);
    const ped = Math.exp(-(((q - 0.022) / 0.006) ** 2 + ((ph - 0.35) / 0.18) ** 2));
    return (0.13 * disc + 0.07 * ped) * ramp(0.03 - q, e);
  }, 'max');
  for (const side of [-1, 1] as const) {
    const x = (q: number) => 0.5 + side * q;
    // Clavicle: medial end at the sternal notch, rising laterally to the acromion.
    const clav: [number, number][] = [];
    for (let i = 0; i <= 10; i++) {
      const t = i / 10;
      const q = 0.04 + t * (a.wt + a.bodyMargin * 0.5 - 0.04);
      clav.push([x(q), a.yApex + 0.05 - 0.085 * t + 0.012 * Math.sin(Math.PI * t * 1.6)]);
    }
    paintCorticalStroke(r, ant, medulla, clav, 0.012, 0.26);
    // Posterior ribs: from the spine, laterally and slightly up, then down along the chest wall.
    const n = 10;
    const span = a.yDome[side < 0 ? 0 : 1] - a.yApex + 0.03;
    for (let k = 0; k < n; k++) {
      const y0 = a.yApex - 0.035 + (k * span) / (n - 0.5);
      const reach = lateralBorder(a, y0 + 0.06) + 0.012;
      const pts: [number, number][] = [];
      for (let i = 0; i <= 8; i++) {
        const t = i / 8;
        const q = 0.03 + (reach - 0.03) * Math.sin((t * Math.PI) / 2) ** 0.9;
        pts.push([x(q), y0 - 0.018 * Math.sin(Math.PI * Math.min(1, t * 1.2)) + 0.06 * t * t + 0.05 * t ** 4]);
      }
      paintCorticalStroke(r, post, medulla, pts, 0.0065 + 0.0006 * k, 0.13);
      // Anterior rib: from the lateral end, sweeping medially and down toward the costal cartilage.
      if (k < 7) {
        const [lx, ly] = pts[pts.length - 1]!;
        const ant1: [number, number][] = [];
        for (let i = 0; i <= 5; i++) {
          const t = i / 5;
          const q = side * (lx - 0.5) - t * (reach - 0.13 - 0.01 * k);
          ant1.push([x(q), ly + 0.005 + 0.11 * t - 0.03 * t * t]);
        }
        paintStroke(r, ant, ant1, 0.0075, 0.055);
      }
    }
    if (a.arms) {
      const cx = x(a.wt + a.bodyMargin - 0.005), cy = a.yApex - 0.035, rr = 0.045;
      r.paint(post, cx - rr - 0.01, cy - rr - 0.01, cx + rr + 0.01, cy + rr + 0.01, (u, v) => {
        const d = Math.hypot(u - cx, v - cy);
        return 0.22 * (0.7 + 0.3 * (d / rr) ** 2) * ramp(rr - d, e);
      }, 'max');
    }
  }
}

/** Hilar shadows and the branching pulmonary vascular tree (fixed per patient through `treeSeed`). */
export function paintVessels(r: Raster, content: Layer, a: Anatomy, treeRng: Rng): void {
  const e = Math.max(r.px, 0.002);
  for (const side of [-1, 1] as const) {
    const [hq, hv] = a.hila[side < 0 ? 0 : 1];
    const hx = 0.5 + side * hq;
    r.paint(content, hx - 0.07, hv - 0.08, hx + 0.07, hv + 0.08, (u, v) => {
      const g = Math.exp(-(((u - hx) / 0.028) ** 2 + ((v - hv) / 0.045) ** 2));
      return 0.22 * a.vessels * g;
    });
    const segs: [number, number, number, number, number][] = [];
    const grow = (x0: number, y0: number, ang: number, len: number, rad: number, depth: number) => {
      const x1 = x0 + side * Math.cos(ang) * len, y1 = y0 + Math.sin(ang) * len;
      segs.push([x0, y0, x1, y1, rad]);
      if (depth === 0) return;
      const spread = treeRng.uniform(0.2, 0.5);
      const wob = treeRng.uniform(-0.25, 0.25);
      grow(x1, y1, ang + wob - spread, len * treeRng.uniform(0.62, 0.8), rad * 0.68, depth - 1);
      grow(x1, y1, ang + wob + spread * treeRng.uniform(0.3, 1), len * treeRng.uniform(0.62, 0.8), rad * 0.68, depth - 1);
    };
    const trunks = 7;
    for (let i = 0; i < trunks; i++) {
      // Angles from up-and-out (−1.25 rad) to down-and-out (+1.35 rad); lower-lobe vessels are larger (gravity).
      const ang = -1.25 + (2.6 * (i + treeRng.uniform(0.2, 0.8))) / trunks;
      const lower = ang > 0 ? 1.15 : 0.9;
      grow(hx, hv, ang, treeRng.uniform(0.045, 0.065), 0.005 * lower, 4);
    }
    for (const [x0, y0, x1, y1, rad] of segs) {
      const dens = 0.09 * a.vessels * Math.min(1.3, (rad / 0.004) ** 0.8);
      const pad = rad + e;
      r.paint(content, Math.min(x0, x1) - pad, Math.min(y0, y1) - pad, Math.max(x0, x1) + pad, Math.max(y0, y1) + pad, (u, v) => {
        const { d } = segmentDistance(u, v, x0, y0, x1, y1);
        return d > pad ? 0 : dens * ramp(rad - d, e);
      }, 'max');
    }
  }
}

/** Normal variants drawn on any patient: breast shadows, a calcified granuloma, plate atelectasis. */
export function paintVariants(r: Raster, tissue: Layer, content: Layer, a: Anatomy): void {
  const e = Math.max(1.5 * r.px, 0.004);
  if (a.breast > 0) {
    for (const side of [-1, 1] as const) {
      const dome = a.yDome[side < 0 ? 0 : 1];
      const cx = 0.5 + side * a.wt * 0.62, cy = dome - 0.03;
      const rx = a.wt * 0.5, ry = 0.1;
      r.paint(tissue, cx - rx, cy - ry, cx + rx, cy + ry, (u, v) => {
        const d = Math.sqrt(((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2);
        // Dense lower edge, fading upward (breast tissue projects over the lower zones).
        const up = Math.min(1, Math.max(0, (v - (cy - ry)) / ry));
        return a.breast * up * ramp(1 - d, 0.08) * ramp(dome + 0.03 - v, 0.05);
      });
    }
  }
  if (a.granuloma) {
    const [side, q, v0, rad] = a.granuloma;
    const cx = 0.5 + side * q;
    r.paint(content, cx - rad - 0.01, v0 - rad - 0.01, cx + rad + 0.01, v0 + rad + 0.01, (u, v) => 0.55 * ramp(rad - Math.hypot(u - cx, v - v0), e));
  }
  if (a.plate) {
    const [side, v0] = a.plate;
    const x0 = 0.5 + side * a.wt * 0.3, x1 = 0.5 + side * a.wt * 0.75;
    r.paint(content, Math.min(x0, x1), v0 - 0.02, Math.max(x0, x1), v0 + 0.02, (u, v) => {
      const { d } = segmentDistance(u, v, x0, v0 - 0.006, x1, v0 + 0.006);
      return 0.18 * ramp(0.004 - d, e);
    });
  }
}
