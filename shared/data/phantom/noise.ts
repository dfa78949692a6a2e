// Smooth seeded value noise on the patient frame: random values on a lattice, blended with a smoothstep.
// Used for patchy consolidation and ground-glass texture, so lesions are irregular rather than perfect ellipses.

import type { Rng } from '../../images/rng.js';

export class ValueNoise {
  private readonly grid: Float32Array;
  constructor(rng: Rng, private readonly cells: number) {
    this.grid = new Float32Array((cells + 1) * (cells + 1));
    for (let i = 0; i < this.grid.length; i++) this.grid[i] = rng.next();
  }
  /** Value in [0, 1] at patient-frame (u, v) (wraps outside the unit square). */
  at(u: number, v: number): number {
    const n = this.cells;
    let x = u * n, y = v * n;
    x = ((x % n) + n) % n;
    y = ((y % n) + n) % n;
    const x0 = Math.floor(x), y0 = Math.floor(y);
    let fx = x - x0, fy = y - y0;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    const w = n + 1, g = this.grid;
    const a = g[y0 * w + x0]!, b = g[y0 * w + x0 + 1]!, c = g[(y0 + 1) * w + x0]!, d = g[(y0 + 1) * w + x0 + 1]!;
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
  }
}

/** Two octaves of value noise: coarse blobs with finer irregular edges. Range ≈ [0, 1]. */
export class Fbm {
  private readonly lo: ValueNoise;
  private readonly hi: ValueNoise;
  constructor(rng: Rng, cells = 10) {
    this.lo = new ValueNoise(rng, cells);
    this.hi = new ValueNoise(rng, cells * 3);
  }
  at(u: number, v: number): number {
    return 0.65 * this.lo.at(u, v) + 0.35 * this.hi.at(u, v);
  }
}
