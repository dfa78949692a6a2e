// The dataset commands as a user runs them: real child processes of bin/cxr-synth.js, each starting
// an in-process storage service over the same filesystem directory, talking to it over gRPC.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'cxr-synth.js');
const dir = mkdtempSync(join(tmpdir(), 'cxr-cli-dataset-'));
const store = join(dir, 'store');
const env = { ...process.env, CXR_SYNTH_STORAGE_URL: `file://${store}`, CXR_SYNTH_STORAGE_ADDR: undefined, CXR_SYNTH_DEID_SALT: 'test-salt-0123456789' };
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'dicom');

function allFiles(root: string): string[] {
  return readdirSync(root).flatMap((n) => (statSync(join(root, n)).isDirectory() ? allFiles(join(root, n)) : [join(root, n)]));
}

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

  it('imports a folder per class (DICOM, PNG), reports skipped files, and stores no identifying value', async () => {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'Normal'), { recursive: true });
    mkdirSync(join(src, 'COVID-19'), { recursive: true });
    mkdirSync(join(src, 'mystery'), { recursive: true });
    copyFileSync(join(fixtures, 'mono1_cr.dcm'), join(src, 'Normal', 'a.dcm'));
    copyFileSync(join(fixtures, 'jpeg_baseline_cr.dcm'), join(src, 'COVID-19', 'b.dcm'));
    copyFileSync(join(fixtures, 'MR_small_RLE.dcm'), join(src, 'COVID-19', 'rle.dcm'));
    writeFileSync(join(src, 'Normal', 'broken.png'), 'not an image');
    const r = await cli('dataset', 'import', src, '--name', 'imported', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { dataset, report } = JSON.parse(r.stdout) as { dataset: View; report: { skipped: { path: string; reason: string }[] } };
    expect(dataset.counts.unsplit).toEqual({ healthy: 1, covid19: 1 });
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.path, s.reason]));
    expect(reasons['COVID-19/rle.dcm']).toContain('1.2.840.10008.1.2.5');
    expect(reasons['Normal/broken.png']).toMatch(/not a PNG, JPEG or DICOM/);
    expect(Object.keys(reasons).some((p) => p.startsWith('mystery'))).toBe(true);
    const stored = allFiles(store).map((f) => readFileSync(f).toString('latin1')).join('\n');
    for (const phi of ['Roe^Richard', 'PID-7731-ABC', 'St Example Clinic', 'Doe^Jane', 'MRN-0042-XYZ', 'Ulm General Hospital']) {
      expect(stored.includes(phi), `${phi} must not be stored`).toBe(false);
    }
    expect((await cli('dataset', 'delete', 'imported')).code).toBe(0);
  });

  it('refuses to import real data without a de-identification salt', async () => {
    const { stdout, stderr } = await run(process.execPath, [bin, 'dataset', 'import', dir, '--name', 'nosalt'], { env: { ...env, CXR_SYNTH_DEID_SALT: undefined } }).catch((e: { stdout: string; stderr: string }) => e);
    expect(stdout + stderr).toContain('set CXR_SYNTH_DEID_SALT');
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
