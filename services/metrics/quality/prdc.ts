// Precision / recall on k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019) and
// density / coverage (Naeem et al. 2020), in one pass over the three distance matrices.
// The manifold of a set is the union of balls around its points, each with the radius of that point's
// k-th nearest neighbour in the same set. Conventions follow the `prdc` reference code of Naeem et al.:
// the k-th neighbour excludes the point itself, and "inside a ball" is strict (<).
//   precision = share of synthetic points inside the real manifold          (fidelity)
//   recall    = share of real points inside the synthetic manifold          (diversity)
//   density   = mean number of real balls holding each synthetic point / k  (fidelity, robust to outliers)
//   coverage  = share of real balls holding at least one synthetic point    (diversity, robust to outliers)
import { pairwiseDistances, type Matrix } from '../linalg/matrix.js';

export interface PrdcResult {
  readonly precision: number;
  readonly recall: number;
  readonly density: number;
  readonly coverage: number;
  readonly k: number;
  readonly nReal: number;
  readonly nFake: number;
}

/** Distance from each row of a square distance matrix to its k-th nearest other row. */
export function kthNeighbourRadii(dist: Matrix, k: number): Float64Array {
  const n = dist.rows;
  const out = new Float64Array(n);
  const buf = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let j = 0; j < n; j++) if (j !== i) buf[w++] = dist.data[i * n + j]!;
    buf.sort();
    out[i] = buf[k - 1]!;
  }
  return out;
}

export function prdc(real: Matrix, fake: Matrix, k = 3): PrdcResult {
  if (real.cols !== fake.cols) throw new RangeError(`feature dimensions differ: real ${real.cols}, synthetic ${fake.cols}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (real.rows <= k || fake.rows <= k) {
    throw new RangeError(`precision/recall with k = ${k} needs more than ${k} points per set, got ${real.rows} real and ${fake.rows} synthetic`);
  }
  const n = real.rows;
  const m = fake.rows;
  const realRadii = kthNeighbourRadii(pairwiseDistances(real, real), k);
  const fakeRadii = kthNeighbourRadii(pairwiseDistances(fake, fake), k);
  const d = pairwiseDistances(real, fake).data; // n × m
  let precise = 0;
  let inBalls = 0;
  const covered = new Uint8Array(n);
  const recalled = new Uint8Array(n);
  for (let j = 0; j < m; j++) {
    let inside = false;
    for (let i = 0; i < n; i++) {
      const dij = d[i * m + j]!;
      if (dij < realRadii[i]!) {
        inside = true;
        inBalls++;
        covered[i] = 1;
      }
      if (dij < fakeRadii[j]!) recalled[i] = 1;
    }
    if (inside) precise++;
  }
  let cov = 0;
  let rec = 0;
  for (let i = 0; i < n; i++) {
    cov += covered[i]!;
    rec += recalled[i]!;
  }
  return { precision: precise / m, recall: rec / n, density: inBalls / (k * m), coverage: cov / n, k, nReal: n, nFake: m };
}
