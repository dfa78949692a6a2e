// Determinism helpers: every random choice in training takes a seed, so the same seed and backend give the same
// weights. tfjs's own seeded ops (randomNormal/randomUniform with `seed`, initializers with `seed`) are
// deterministic; these helpers hand out distinct, reproducible seeds and shuffle data in a seeded order.
import * as tf from '@tensorflow/tfjs';

/** What tf.initializers.* return (the class is not re-exported by name). */
export type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** mulberry32: a small, fast 32-bit PRNG; `next()` is uniform in [0, 1). */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A derived seed for a tfjs op or initializer (a positive 31-bit integer). */
  seed(): number {
    return 1 + this.int(0x7ffffffe);
  }
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
export function seededPermutation(n: number, seed: number): number[] {
  const rng = new SeededRandom(seed);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A shuffled copy of `items` in a seeded order. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return seededPermutation(items.length, seed).map((i) => items[i]!);
}

/**
 * Seeded initializers for tf.layers: each call gives a new, reproducible seed, so layers built in the same
 * order from the same seed get the same weights and no two layers share a pattern.
 */
export class SeededInitializers {
  private readonly rng: SeededRandom;

  constructor(seed: number) {
    this.rng = new SeededRandom(seed);
  }

  glorotUniform(): Initializer {
    return tf.initializers.glorotUniform({ seed: this.rng.seed() });
  }

  heNormal(): Initializer {
    return tf.initializers.heNormal({ seed: this.rng.seed() });
  }

  /** N(0, stddev): DCGAN's weight init (stddev 0.02). */
  normal(stddev: number, mean = 0): Initializer {
    return tf.initializers.randomNormal({ mean, stddev, seed: this.rng.seed() });
  }

  /** A seed for a tfjs random op (noise, dropout masks). */
  seed(): number {
    return this.rng.seed();
  }
}
