// One parity suite for every backend the project registers kernels for: the kernels are registered, every one
// is covered by a case, and every case matches the pure-JS `cpu` backend to TOLERANCE (values and gradients).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../shared/tf/index.js';
import { type ParityCase, TOLERANCE, parityCases, relativeError, runOn } from '../../shared/tf/testing/parity.js';

export interface KernelParitySuite {
  title: string;
  /** The tfjs backend name under test. */
  backend: string;
  /** Starts the backend (and checks the variant under test started). */
  start: () => Promise<void>;
  /** Kernels the project registers for this backend; each must be registered and covered by a case. */
  kernels: readonly string[];
  /** A reason to skip the whole suite, or null to run it. */
  skip: string | null;
  /** Why this backend cannot run a case at all (it is then skipped, the reason in its name), or undefined. */
  unsupported?: (c: ParityCase) => string | undefined;
}

export function kernelParitySuite(suite: KernelParitySuite): void {
  const cases = parityCases();
  if (suite.skip !== null) console.warn(`[kernel parity ${suite.backend}] SKIPPED: ${suite.skip}`);
  const title = suite.skip === null ? suite.title : `${suite.title} — SKIPPED: ${suite.skip}`;
  describe.skipIf(suite.skip !== null)(title, () => {
    beforeAll(suite.start);

    it(`registers every project kernel for ${suite.backend}`, () => {
      const names = new Set(tf.getKernelsForBackend(suite.backend).map((k) => k.kernelName));
      for (const k of suite.kernels) expect(names.has(k), k).toBe(true);
    });

    it('covers every project kernel with parity cases', () => {
      const covered = new Set(cases.flatMap((c) => c.kernels));
      for (const k of suite.kernels) expect(covered.has(k), k).toBe(true);
    });

    for (const c of cases) {
      const why = suite.unsupported?.(c);
      if (why !== undefined) it.skip(`${c.name} — not on ${suite.backend}: ${why}`, () => {});
    }
    const runnable = cases.filter((c) => suite.unsupported?.(c) === undefined);
    it.each(runnable.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const ref = await runOn('cpu', c);
      const got = await runOn(suite.backend, c);
      expect(relativeError(ref, got)).toBeLessThanOrEqual(TOLERANCE);
      await tf.setBackend(suite.backend);
    });
  });
}
