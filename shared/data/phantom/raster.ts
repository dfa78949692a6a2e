// A supersampled raster in which shapes are described in the *patient frame* (unit square, x to the image's right,
// y down) and painted through the image's pose (rotation, scale, shift). Each primitive gives a bounding box in the
// patient frame and a coverage/density function of (u, v); we visit only the pixels inside the posed box and
// inverse-map each pixel centre. Shapes therefore look the same at 64 and 512 px, and antialiasing comes from
// soft edges about one supersample wide plus the final area downsample.

export interface Pose {
  /** Rotation in radians (positive = clockwise on screen, since y points down). */
  angle: number;
  scale: number;
  dx: number;
  dy: number;
}

export type Layer = Float32Array;
export type PaintMode = 'add' | 'max';

export class Raster {
  readonly size: number;
  /** One pixel in patient-frame units (for edge softness). */
  readonly px: number;
  private readonly c: number;
  private readonly s: number;
  constructor(size: number, readonly pose: Pose) {
    this.size = size;
    this.px = 1 / (size * pose.scale);
    this.c = Math.cos(pose.angle);
    this.s = Math.sin(pose.angle);
  }

  layer(): Layer {
    return new Float32Array(this.size * this.size);
  }

  /** Patient frame → image frame (unit square). */
  forward(u: number, v: number): [number, number] {
    const { scale, dx, dy } = this.pose;
    const x = u - 0.5, y = v - 0.5;
    return [0.5 + dx + scale * (this.c * x - this.s * y), 0.5 + dy + scale * (this.s * x + this.c * y)];
  }

  /**
   * Paint fn(u, v) into `layer` (skipping pixels where `mask` is 0, when given) `layer` over the patient-frame box [u0,u1]×[v0,v1]. fn returns the value to add (or max with);
   * returning 0 is a no-op.
   */
  paint(layer: Layer, u0: number, v0: number, u1: number, v1: number, fn: (u: number, v: number) => number, mode: PaintMode = 'add', mask?: Layer): void {
    const n = this.size;
    let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    for (const [u, v] of [[u0, v0], [u1, v0], [u0, v1], [u1, v1]] as const) {
      const [x, y] = this.forward(u, v);
      if (x < xmin) xmin = x; if (x > xmax) xmax = x;
      if (y < ymin) ymin = y; if (y > ymax) ymax = y;
    }
    const px0 = Math.max(0, Math.floor(xmin * n) - 1), px1 = Math.min(n - 1, Math.ceil(xmax * n) + 1);
    const py0 = Math.max(0, Math.floor(ymin * n) - 1), py1 = Math.min(n - 1, Math.ceil(ymax * n) + 1);
    if (px0 > px1 || py0 > py1) return;
    const { scale, dx, dy } = this.pose;
    const inv = 1 / scale, c = this.c, s = this.s;
    for (let py = py0; py <= py1; py++) {
      const y = (py + 0.5) / n - 0.5 - dy;
      for (let pxi = px0; pxi <= px1; pxi++) {
        if (mask !== undefined && mask[py * n + pxi] === 0) continue;
        const x = (pxi + 0.5) / n - 0.5 - dx;
        // Inverse rotation (transpose) and scale.
        const u = 0.5 + inv * (c * x + s * y);
        const v = 0.5 + inv * (-s * x + c * y);
        if (u < u0 || u > u1 || v < v0 || v > v1) continue;
        const val = fn(u, v);
        if (val === 0) continue;
        const i = py * n + pxi;
        if (mode === 'add') layer[i]! += val;
        else if (val > layer[i]!) layer[i] = val;
      }
    }
  }

  /** Paint over the whole image (every pixel). */
  paintAll(layer: Layer, fn: (u: number, v: number) => number): void {
    // The inverse of the image corners bounds every pixel; a generous box is cheaper than exact corners.
    this.paint(layer, -2, -2, 3, 3, fn);
  }
}

/** Smooth 0→1 ramp of a signed distance `d` (positive = inside) over `w` units. */
export function ramp(d: number, w: number): number {
  const t = d / w + 0.5;
  return t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t);
}

/** Distance from (u,v) to the segment (ax,ay)–(bx,by). */
export function segmentDistance(u: number, v: number, ax: number, ay: number, bx: number, by: number): { d: number; t: number } {
  const ex = bx - ax, ey = by - ay;
  const len2 = ex * ex + ey * ey;
  let t = len2 > 0 ? ((u - ax) * ex + (v - ay) * ey) / len2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  const qx = ax + t * ex - u, qy = ay + t * ey - v;
  return { d: Math.sqrt(qx * qx + qy * qy), t };
}
