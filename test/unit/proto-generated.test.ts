// The generated protobuf code is committed; this fails when someone edits proto/ without `npm run gen`
// (or edits the generated files by hand), and when the contracts stop passing `buf lint`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const buf = join(root, 'node_modules', '.bin', 'buf');

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

describe('protobuf contracts', () => {
  const out = mkdtempSync(join(tmpdir(), 'cxr-proto-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('generated code in shared/proto matches proto/', () => {
    execFileSync(buf, ['generate', '--output', out], { cwd: root, stdio: 'pipe' });
    const fresh = join(out, 'shared', 'proto');
    const committed = join(root, 'shared', 'proto');
    const freshFiles = listFiles(fresh).map((f) => relative(fresh, f)).sort();
    const committedFiles = listFiles(committed).map((f) => relative(committed, f)).sort();
    expect(committedFiles).toEqual(freshFiles);
    for (const f of freshFiles) {
      const same = readFileSync(join(fresh, f), 'utf8') === readFileSync(join(committed, f), 'utf8');
      expect(same, `${f} is stale: run npm run gen`).toBe(true);
    }
  });

  it('passes buf lint', () => {
    const result = execFileSync(buf, ['lint'], { cwd: root, encoding: 'utf8' });
    expect(result.trim()).toBe('');
  });

  it('declares every service the mesh needs, with its long-running RPCs as server streams', async () => {
    const { StorageServiceService } = await import('../../shared/proto/cxrsynth/v1/storage.js');
    const { GeneratorServiceService } = await import('../../shared/proto/cxrsynth/v1/generator.js');
    const { ClassifierServiceService } = await import('../../shared/proto/cxrsynth/v1/classifier.js');
    const { MetricsServiceService } = await import('../../shared/proto/cxrsynth/v1/metrics.js');
    expect(StorageServiceService.putImages.requestStream).toBe(true);
    expect(StorageServiceService.getImage.responseStream).toBe(true);
    expect(GeneratorServiceService.train.responseStream).toBe(true);
    expect(GeneratorServiceService.generate.responseStream).toBe(true);
    expect(ClassifierServiceService.classify.responseStream).toBe(false);
    expect(ClassifierServiceService.classifyStream.requestStream && ClassifierServiceService.classifyStream.responseStream).toBe(true);
    expect(MetricsServiceService.runAssessment.responseStream).toBe(true);
    expect(MetricsServiceService.imageQuality.path).toBe('/cxrsynth.v1.MetricsService/ImageQuality');
  });
});
