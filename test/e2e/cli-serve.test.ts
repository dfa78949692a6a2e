// `cxr-synth serve all` as an operator runs it: a real child process, four services on loopback ports,
// each answering health, reflection and /metrics; unbuilt RPCs answer UNIMPLEMENTED; SIGTERM drains and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '../../shared/grpc/index.js';
import { GeneratorServiceClient } from '../../shared/proto/cxrsynth/v1/generator.js';
import { StorageServiceClient } from '../../shared/proto/cxrsynth/v1/storage.js';
import { HealthCheckResponse_ServingStatus } from '../../shared/proto/grpc/health/v1/health.js';
import { check, healthClient, reflect } from '../support/grpc-clients.js';

const root = join(import.meta.dirname, '..', '..');

interface Listening { service: string; grpc: string; metrics: string }

describe('cxr-synth serve all', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cxr-serve-'));
  let child: ChildProcess;
  let listening: Listening[];
  let stderr = '';

  beforeAll(async () => {
    child = spawn(process.execPath, [join(root, 'bin', 'cxr-synth.js'), 'serve', 'all', '--port', '0', '--metrics-port', '0', '--json'], {
      env: { ...process.env, CXR_SYNTH_STORAGE_URL: `file://${dataDir}`, CXR_SYNTH_AUTH: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let stdout = '';
    listening = await new Promise<Listening[]>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        try {
          resolve((JSON.parse(stdout) as { listening: Listening[] }).listening);
        } catch { /* not complete yet */ }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const addr = (service: string) => listening.find((l) => l.service === service)!.grpc;

  it('runs the four services on distinct ports, each SERVING with reflection', async () => {
    expect(listening.map((l) => l.service)).toEqual(['storage', 'generator', 'classifier', 'metrics']);
    expect(new Set(listening.map((l) => l.grpc)).size).toBe(4);
    const names: Record<string, string> = {
      storage: 'cxrsynth.v1.StorageService', generator: 'cxrsynth.v1.GeneratorService',
      classifier: 'cxrsynth.v1.ClassifierService', metrics: 'cxrsynth.v1.MetricsService',
    };
    for (const l of listening) {
      const h = healthClient({ addresses: [l.grpc] });
      expect((await check(h, names[l.service]!)).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      h.close();
      const r = await reflect(l.grpc, { list_services: '' });
      expect(r.list_services_response?.service.map((s) => s.name)).toContain(names[l.service]);
    }
  });

  it('serves real storage and answers UNIMPLEMENTED for generator RPCs not built yet', async () => {
    const storage = createClient(StorageServiceClient, { addresses: [addr('storage')] });
    const page = await callUnary(storage, 'listDatasets', { pageSize: 10, pageToken: '' });
    expect(page.datasets).toEqual([]);
    storage.close();
    const generator = createClient(GeneratorServiceClient, { addresses: [addr('generator')], retry: { maxAttempts: 1, initialBackoffMs: 10, maxBackoffMs: 10 } });
    await expect(callUnary(generator, 'getModel', { modelId: 'x' })).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    generator.close();
  });

  it('exposes Prometheus metrics per service, counting handled calls by code', async () => {
    const text = await (await fetch(`${listening.find((l) => l.service === "generator")!.metrics}/metrics`)).text();
    expect(text).toMatch(/grpc_server_handled_total\{[^}]*grpc_method="GetModel"[^}]*grpc_code="UNIMPLEMENTED"[^}]*\} 1/);
    expect(text).toContain('cxr_synth_build_info{service="generator"');
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('shutdown complete');
  });
});
