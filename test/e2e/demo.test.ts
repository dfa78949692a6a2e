// `cxr-synth demo` end to end, small: the four services in one process over gRPC, the phantom dataset
// stored and split, a classifier trained and evaluated, and three reference sets measured. The metrics
// must rank the reference sets the way their construction dictates.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'cxr-synth.js');
const dir = mkdtempSync(join(tmpdir(), 'cxr-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Scores { nReal: number; nSynthetic: number; fid: number; precision: number; memorization: { shareBelowFeature: number } }
interface DemoResult {
  dataset: { images: number; counts: Record<string, Record<string, number>> };
  evaluation: { predictions: unknown[]; scores: { accuracy: number; perClass: unknown[] } };
  quality: { kind: string; result: { featureNetwork: string; scores: Scores[] } }[];
}

it('runs the whole embedded pipeline and ranks fresh < degraded in FID, copies as memorized', async () => {
  const { stdout } = await run(process.execPath, [bin, 'demo', '--size', '32', '--epochs', '1', '--per-class', '8', '--dir', dir, '--json'], {
    env: { ...process.env, CXR_SYNTH_STORAGE_ADDR: undefined },
    maxBuffer: 64 * 1024 * 1024,
  });
  const r = JSON.parse(stdout) as DemoResult;
  expect(r.dataset.images).toBe(1082);
  expect(Object.values(r.dataset.counts.test ?? {}).reduce((a, b) => a + b, 0)).toBe(217);
  expect(r.evaluation.predictions).toHaveLength(217);
  expect(r.evaluation.scores.perClass).toHaveLength(5);

  const by = Object.fromEntries(r.quality.map((q) => [q.kind, q.result.scores[0]!]));
  expect(r.quality.every((q) => q.result.featureNetwork === 'domain')).toBe(true);
  expect(by.fresh!.nSynthetic).toBe(40);
  expect(by.fresh!.fid).toBeLessThan(by.degraded!.fid);
  expect(by.fresh!.precision).toBeGreaterThan(by.degraded!.precision);
  expect(by.copies!.memorization.shareBelowFeature).toBe(1);
  expect(by.fresh!.memorization.shareBelowFeature).toBeLessThan(0.5);
}, 900_000);
