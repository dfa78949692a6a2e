// Findings, painted into the lung-content layer (later multiplied by aerated-lung coverage, so they stay inside the
// lungs and a dense consolidation next to the heart erases its border — the silhouette sign — by itself).
//   bacterial — lobar consolidation: one lobe, dense and fairly homogeneous, a sharp edge where a fissure bounds it,
//               air bronchograms when dense;
//   viral     — bilateral perihilar streaky interstitial opacities with perihilar haze;
//   fungal    — several nodules of varying size, some cavitating (air-filled centre), some with a ground-glass halo;
//   covid19   — bilateral, peripheral, lower-zone ground-glass opacities (vessels stay visible through them);
//   healthy   — nothing (normal variants are painted for everyone in anatomy.ts).
// `severity` ∈ [0, 1] scales extent and density; low severity is deliberately subtle, so classes overlap.

import type { Rng } from '../../images/rng.js';
import type { Finding } from '../findings.js';
import { diaphragmAt, lateralBorder, type Anatomy, type Side } from './anatomy.js';
import { Fbm } from './noise.js';
import { ramp, segmentDistance, type Layer, type Raster } from './raster.js';

/** Everything random about a finding that must stay the same across one patient's images. */
export interface FindingPlan {
  finding: Finding;
  severity: number;
  seed: number;
  /** Lobe for bacterial pneumonia. */
  lobe: 'RUL' | 'RML' | 'RLL' | 'LUL' | 'LLL';
}

export function planFinding(finding: Finding, rng: Rng): FindingPlan {
  // Severity skews towards moderate; about one in six cases is subtle (< 0.2).
  const severity = finding === 'healthy' ? 0 : Math.min(1, Math.max(0.03, rng.next() ** 0.85));
  return { finding, severity, seed: rng.int(0, 2 ** 31), lobe: rng.pick(['RUL', 'RML', 'RLL', 'LUL', 'LLL'] as const) };
}

/** `lung` (aerated-lung coverage) limits the work to pixels inside the lungs. */
export function paintFinding(r: Raster, content: Layer, lung: Layer, a: Anatomy, plan: FindingPlan, rng: Rng): void {
  switch (plan.finding) {
    case 'healthy':
      return;
    case 'bacterial':
      return paintLobar(r, content, lung, a, plan, rng);
    case 'viral':
      return paintViral(r, content, lung, a, plan, rng);
    case 'fungal':
      return paintNodules(r, content, lung, a, plan, rng);
    case 'covid19':
      return paintGroundGlass(r, content, lung, a, plan, rng);
  }
}

function lungBox(a: Anatomy, side: Side): [number, number, number, number] {
  return side < 0
    ? [0.5 - a.wt - 0.01, a.yApex - 0.01, 0.5, a.yCosto + 0.01]
    : [0.5, a.yApex - 0.01, 0.5 + a.wt + 0.01, a.yCosto + 0.01];
}

function paintLobar(r: Raster, content: Layer, lung: Layer, a: Anatomy, plan: FindingPlan, rng: Rng): void {
  const s = plan.severity;
  const side: Side = plan.lobe.startsWith('R') ? -1 : 1;
  const fbm = new Fbm(rng, 9);
  const warp = new Fbm(rng, 6);
  const sharp = Math.max(r.px, 0.003);
  const soft = 0.05;
  const fissure = a.hila[0][1] + 0.01; // right horizontal fissure at about the hilum level
  const dome = a.yDome[side < 0 ? 0 : 1];
  const density = 0.3 + 0.42 * s;
  const extent = 0.35 + 0.6 * s; // fraction of the lobe involved
  const [u0, v0, u1, v1] = lungBox(a, side);
  const lobeWeight = (q: number, v: number): number => {
    switch (plan.lobe) {
      case 'RUL': return ramp(fissure - v, sharp); // sharp inferior border along the horizontal fissure
      case 'RML': return ramp(v - fissure, sharp) * ramp(0.62 * a.wt * (1 - 0.45 * Math.max(0, (v - fissure) / (dome - fissure))) - q, 0.08) * ramp(dome + 0.01 - v, soft);
      case 'RLL': return ramp(v - (fissure + 0.06), 0.08) * ramp(q - 0.22 * a.wt, 0.1);
      case 'LUL': return ramp(a.hila[1][1] + 0.06 + 0.1 * (q / a.wt) - v, 0.09);
      case 'LLL': return ramp(v - (a.hila[1][1] + 0.05), 0.08) * ramp(q - 0.18 * a.wt, 0.1);
    }
  };
  // Centre of involvement inside the lobe: consolidation spreads from there.
  const centre = plan.lobe.endsWith('UL') ? [0.55 * a.wt, a.yApex + 0.12] : plan.lobe === 'RML' ? [0.35 * a.wt, fissure + 0.09] : [0.6 * a.wt, dome - 0.06];
  // Air bronchograms: dark branching lines from the hilum, visible only where the consolidation is dense.
  const bronchi: [number, number, number, number][] = [];
  if (s > 0.45) {
    const [hq, hv] = a.hila[side < 0 ? 0 : 1];
    const n = 3 + Math.floor(4 * s);
    for (let i = 0; i < n; i++) {
      const ang = plan.lobe.endsWith('UL') ? rng.uniform(-1.2, -0.4) : rng.uniform(0.2, 1.1);
      const len = rng.uniform(0.06, 0.12);
      const x0 = 0.5 + side * (hq + 0.02), y0 = hv;
      bronchi.push([x0, y0, x0 + side * Math.cos(ang) * len, y0 + Math.sin(ang) * len]);
    }
  }
  const be = Math.max(r.px, 0.002);
  r.paint(content, u0, v0, u1, v1, (u, v) => {
    const q = side * (u - 0.5);
    if (q <= 0) return 0;
    // Warp the lobe boundaries a little so the consolidation isn't ruled with straight edges.
    const lw = lobeWeight(q + (warp.at(u, v) - 0.5) * 0.07, v + (warp.at(v + 3.1, u + 1.7) - 0.5) * 0.05);
    if (lw === 0) return 0;
    const dist = Math.hypot((q - centre[0]!) / a.wt, (v - centre[1]!) / 0.35);
    const n = fbm.at(u, v);
    // Patchy at the spreading front, confluent where involved.
    const involved = ramp(extent - dist * 0.9 + (n - 0.5) * 0.7, 0.2);
    let val = density * lw * involved * (0.82 + 0.3 * n);
    if (val > 0.6 * density && bronchi.length > 0) {
      let d = Infinity;
      for (const [ax, ay, bx, by] of bronchi) d = Math.min(d, segmentDistance(u, v, ax, ay, bx, by).d);
      val -= 0.5 * val * ramp(0.0028 - d, be);
    }
    return val;
  }, 'add', lung);
}

function paintViral(r: Raster, content: Layer, lung: Layer, a: Anatomy, plan: FindingPlan, rng: Rng): void {
  const s = plan.severity;
  const e = Math.max(r.px, 0.002);
  for (const side of [-1, 1] as const) {
    const [hq, hv] = a.hila[side < 0 ? 0 : 1];
    const hx = 0.5 + side * (hq + 0.03);
    const haze = 0.05 + 0.13 * s;
    r.paint(content, hx - 0.2, hv - 0.2, hx + 0.2, hv + 0.22, (u, v) => {
      const g = Math.exp(-(((u - hx) / (0.08 + 0.04 * s)) ** 2 + ((v - hv - 0.02) / (0.1 + 0.04 * s)) ** 2));
      return haze * g;
    }, 'add', lung);
    const n = Math.round(14 + 34 * s);
    for (let i = 0; i < n; i++) {
      const ang = rng.uniform(-1.3, 1.4);
      const len = rng.uniform(0.05, 0.13) * (0.7 + 0.5 * s);
      const start = rng.uniform(0.005, 0.05);
      const x0 = 0.5 + side * (hq + start * Math.cos(ang)), y0 = hv + start * Math.sin(ang) + rng.normal() * 0.02;
      const bend = rng.uniform(-0.25, 0.25);
      const xm = x0 + side * Math.cos(ang + bend) * len * 0.5, ym = y0 + Math.sin(ang + bend) * len * 0.5;
      const x1 = xm + side * Math.cos(ang - bend) * len * 0.5, y1 = ym + Math.sin(ang - bend) * len * 0.5;
      const rad = rng.uniform(0.0022, 0.0045);
      const dens = (0.07 + 0.11 * s) * rng.uniform(0.6, 1.2);
      for (const [ax, ay, bx, by] of [[x0, y0, xm, ym], [xm, ym, x1, y1]] as const) {
        r.paint(content, Math.min(ax, bx) - 0.01, Math.min(ay, by) - 0.01, Math.max(ax, bx) + 0.01, Math.max(ay, by) + 0.01, (u, v) => {
          const { d } = segmentDistance(u, v, ax, ay, bx, by);
          return d > rad + e ? 0 : dens * ramp(rad - d, e);
        }, 'max');
      }
    }
  }
}

function paintNodules(r: Raster, content: Layer, lung: Layer, a: Anatomy, plan: FindingPlan, rng: Rng): void {
  const s = plan.severity;
  const e = Math.max(1.2 * r.px, 0.002);
  const n = 3 + Math.round(rng.uniform(0, 6) * (0.4 + 0.6 * s));
  for (let i = 0; i < n; i++) {
    const side: Side = rng.chance(0.5) ? -1 : 1;
    const v0 = rng.uniform(a.yApex + 0.06, a.yDome[side < 0 ? 0 : 1] - 0.04);
    const q = rng.uniform(0.2, 0.88) * lateralBorder(a, v0);
    if (v0 > diaphragmAt(a, side, q) - 0.02) continue;
    const cx = 0.5 + side * q;
    const rad = (0.012 + rng.uniform(0, 0.03)) * (0.6 + 0.6 * s);
    const dens = rng.uniform(0.28, 0.5);
    const cavity = rng.chance(0.45) && rad > 0.017 ? rng.uniform(0.45, 0.65) * rad : 0;
    const halo = rng.chance(0.3);
    const reach = rad * (halo ? 1.9 : 1.1) + e;
    r.paint(content, cx - reach, v0 - reach, cx + reach, v0 + reach, (u, v) => {
      const d = Math.hypot(u - cx, v - v0);
      let val = dens * ramp(rad - d, e);
      if (cavity > 0) val -= (dens + 0.04) * ramp(cavity - d, e); // air-filled centre, darker than lung
      if (halo) val += 0.07 * ramp(rad * 1.8 - d, rad * 0.6) * (d > rad ? 1 : 0);
      return val;
    }, 'add', lung);
  }
}

function paintGroundGlass(r: Raster, content: Layer, lung: Layer, a: Anatomy, plan: FindingPlan, rng: Rng): void {
  const s = plan.severity;
  const fbm = new Fbm(rng, 8);
  for (const side of [-1, 1] as const) {
    const amount = (0.09 + 0.24 * s) * (side < 0 ? rng.uniform(0.6, 1) : rng.uniform(0.6, 1));
    const inner = rng.uniform(0.42, 0.6);
    const upper = a.yApex + rng.uniform(0.3, 0.4) - 0.1 * s;
    const [u0, v0, u1, v1] = lungBox(a, side);
    r.paint(content, u0, v0, u1, v1, (u, v) => {
      const q = side * (u - 0.5);
      if (q <= 0) return 0;
      const periph = ramp(q / lateralBorder(a, v) - inner, 0.28);
      const lower = ramp(v - upper, 0.16);
      if (periph * lower === 0) return 0;
      const patch = ramp(fbm.at(u, v) - (0.62 - 0.35 * s), 0.22);
      return amount * periph * lower * patch;
    }, 'add', lung);
  }
}
