// The dataset commands as a user runs them: real child processes of bin/cxr-synth.js, each starting
// an in-process storage service over the same filesystem directory, talking to it over gRPC.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'cxr-synth.js');
const dir = mkdtempSync(join(tmpdir(), 'cxr-cli-dataset-'));
const env = { ...process.env, CXR_SYNTH_STORAGE_URL: `file://${dir}`, CXR_SYNTH_STORAGE_ADDR: undefined };

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

type View = { id: string; images: number; patients: number; folds: number; counts: Record<string, Record<string, number>> };
const total = (row: Record<string, number> | undefined) => Object.values(row ?? {}).reduce((a, b) => a + b, 0);

describe('cxr-synth dataset', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a phantom dataset with the requested counts per finding', async () => {
    const r = await cli('dataset', 'phantom', '--name', 'small', '--size', '32', '--counts', 'h=20,b=10,v=10,f=10,c=10', '--seed', 's1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as View;
    expect(v.images).toBe(60);
    expect(v.counts.unsplit).toEqual({ healthy: 20, bacterial: 10, viral: 10, fungal: 10, covid19: 10 });
    expect(v.patients).toBeGreaterThan(20);
    expect(v.patients).toBeLessThan(60); // one to three images per patient
  });

  it('splits by patient with each split near its share, and k folds over train + validation', async () => {
    const r = await cli('dataset', 'split', 'small', '--val', '0.2', '--test', '0.2', '--folds', '3', '--seed', '7', '--json');
    expect(r.code, r.stderr).toBe(0);
    const v = JSON.parse(r.stdout) as View;
    expect(v.folds).toBe(3);
    expect(total(v.counts.train) + total(v.counts.validation) + total(v.counts.test)).toBe(60);
    expect(Math.abs(total(v.counts.test) - 12)).toBeLessThanOrEqual(5);
    expect(v.counts.unsplit).toBeUndefined();
    const shown = JSON.parse((await cli('dataset', 'show', 'small', '--json')).stdout) as View;
    expect(shown.counts).toEqual(v.counts);
  });

  it('lists and deletes', async () => {
    const list = JSON.parse((await cli('dataset', 'list', '--json')).stdout) as { datasets: View[] };
    expect(list.datasets.map((d) => d.id)).toEqual(['small']);
    expect((await cli('dataset', 'delete', 'small')).code).toBe(0);
    const after = JSON.parse((await cli('dataset', 'list', '--json')).stdout) as { datasets: View[] };
    expect(after.datasets).toEqual([]);
  });

  it('answers bad input with a usable message and a non-zero exit, storing nothing', async () => {
    const traversal = await cli('dataset', 'phantom', '--name', '../escape', '--size', '32', '--counts', 'h=2,b=0,v=0,f=0,c=0', '--json');
    expect(traversal.code).toBe(1);
    expect(JSON.parse(traversal.stdout).error).toMatch(/^INVALID_ARGUMENT: .*not a valid dataset id/);
    const missing = await cli('dataset', 'show', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
    const usage = await cli('dataset', 'phantom', '--name', 'x', '--size', 'huge');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--size must be an integer from 16 to 512');
    const list = JSON.parse((await cli('dataset', 'list', '--json')).stdout) as { datasets: View[] };
    expect(list.datasets).toEqual([]);
  });
});
