// Dense float64 matrices for the metrics maths. Row-major Float64Array, no dependencies.
// Feature sets are n × d (one row per image); covariances are d × d. Every hot loop walks rows
// contiguously because that is what keeps plain JavaScript within a small factor of BLAS.

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** row-major, length rows * cols */
  readonly data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`matrix shape must be non-negative integers, got ${rows}×${cols}`);
  }
  const out = new Float64Array(rows * cols);
  if (data !== undefined) {
    if (data.length !== rows * cols) {
      throw new RangeError(`matrix ${rows}×${cols} needs ${rows * cols} values, got ${data.length}`);
    }
    out.set(data);
  }
  return { rows, cols, data: out };
}

/** Builds an n × d matrix from n rows of equal length d. */
export function fromRows(rows: ReadonlyArray<ArrayLike<number>>): Matrix {
  const n = rows.length;
  const d = n === 0 ? 0 : rows[0]!.length;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    if (r.length !== d) throw new RangeError(`row ${i} has ${r.length} values, expected ${d}`);
    out.set(r, i * d);
  }
  return { rows: n, cols: d, data: out };
}

export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Column means of an n × d matrix (length d). */
export function columnMeans(x: Matrix): Float64Array {
  const { rows: n, cols: d, data } = x;
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) mu[j]! += data[off + j]!;
  }
  for (let j = 0; j < d; j++) mu[j]! /= n;
  return mu;
}

/** x with the column means subtracted (a new matrix). */
export function centered(x: Matrix, mu: Float64Array = columnMeans(x)): Matrix {
  const { rows: n, cols: d, data } = x;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) out[off + j] = data[off + j]! - mu[j]!;
  }
  return { rows: n, cols: d, data: out };
}

/**
 * Inner products of every row of a with every row of b: (a.rows × b.rows) = a · bᵀ.
 * When a === b only the upper triangle is computed and mirrored.
 * Four rows of a go against each row of b at once (register blocking): every b value loaded from
 * memory feeds four multiply-adds, which is what makes 1000 × 1000 × 2048 affordable in plain JS.
 */
export function gram(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.cols) throw new RangeError(`gram: column counts differ (${a.cols} vs ${b.cols})`);
  const n = a.rows;
  const m = b.rows;
  const d = a.cols;
  const A = a.data;
  const B = b.data;
  const out = new Float64Array(n * m);
  const same = a === b;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const a0 = i * d;
    const a1 = a0 + d;
    const a2 = a1 + d;
    const a3 = a2 + d;
    for (let j = same ? i : 0; j < m; j++) {
      const bj = j * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < d; k++) {
        const bv = B[bj + k]!;
        s0 += A[a0 + k]! * bv;
        s1 += A[a1 + k]! * bv;
        s2 += A[a2 + k]! * bv;
        s3 += A[a3 + k]! * bv;
      }
      out[i * m + j] = s0;
      out[(i + 1) * m + j] = s1;
      out[(i + 2) * m + j] = s2;
      out[(i + 3) * m + j] = s3;
    }
  }
  for (; i < n; i++) {
    const ai = i * d;
    for (let j = same ? i : 0; j < m; j++) {
      const bj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += A[ai + k]! * B[bj + k]!;
      out[i * m + j] = s;
    }
  }
  if (same) {
    // the blocked rows computed a few entries below the diagonal too; mirror the upper triangle down
    for (let r = 0; r < n; r++) for (let c = r + 1; c < m; c++) out[c * m + r] = out[r * m + c]!;
  }
  return { rows: n, cols: m, data: out };
}

/** Transpose (a new matrix). */
export function transpose(a: Matrix): Matrix {
  const { rows: n, cols: m, data } = a;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = data[i * m + j]!;
  return { rows: m, cols: n, data: out };
}

/** a · b, i-k-j order so the inner loop runs along rows of b and of the output. */
export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`matmul: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`);
  const n = a.rows;
  const p = a.cols;
  const m = b.cols;
  const A = a.data;
  const B = b.data;
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const oi = i * m;
    for (let k = 0; k < p; k++) {
      const aik = A[i * p + k]!;
      if (aik === 0) continue;
      const bk = k * m;
      for (let j = 0; j < m; j++) out[oi + j]! += aik * B[bk + j]!;
    }
  }
  return { rows: n, cols: m, data: out };
}

/** Sample covariance (divisor n − 1) of an n × d matrix, as numpy.cov(x, rowvar=False). */
export function covariance(x: Matrix, mu: Float64Array = columnMeans(x)): Matrix {
  if (x.rows < 2) throw new RangeError(`covariance needs at least 2 rows, got ${x.rows}`);
  const xt = transpose(centered(x, mu)); // d × n: covariance entries are dot products of its rows
  const g = gram(xt, xt);
  const s = 1 / (x.rows - 1);
  for (let i = 0; i < g.data.length; i++) g.data[i]! *= s;
  return g;
}

export function trace(a: Matrix): number {
  if (a.rows !== a.cols) throw new RangeError(`trace of a non-square ${a.rows}×${a.cols} matrix`);
  let t = 0;
  for (let i = 0; i < a.rows; i++) t += a.data[i * a.cols + i]!;
  return t;
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const t = a[i]! - b[i]!;
    s += t * t;
  }
  return s;
}

/**
 * Euclidean distances between every row of a and every row of b, via the Gram matrix:
 * |x−y|² = |x|² + |y|² − 2x·y, clamped at 0 against rounding.
 */
export function pairwiseDistances(a: Matrix, b: Matrix): Matrix {
  const g = gram(a, b);
  const na = rowSquaredNorms(a);
  const nb = a === b ? na : rowSquaredNorms(b);
  const out = g.data;
  const m = b.rows;
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < m; j++) {
      const v = na[i]! + nb[j]! - 2 * out[i * m + j]!;
      out[i * m + j] = v > 0 ? Math.sqrt(v) : 0;
    }
    if (a === b) out[i * m + i] = 0;
  }
  return g;
}

export function rowSquaredNorms(a: Matrix): Float64Array {
  const out = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    const off = i * a.cols;
    for (let j = 0; j < a.cols; j++) s += a.data[off + j]! * a.data[off + j]!;
    out[i] = s;
  }
  return out;
}
