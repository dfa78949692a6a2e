// The mesh as an operator sees it: `cxr-synth serve all` on loopback, a real Prometheus scraping the four
// /metrics ports with the project's alert and recording rules loaded, and the Grafana dashboard's queries
// run against it. Proves the scrape contract (every target up, gRPC server metrics labelled by service and
// method) and that the rules and dashboard evaluate without errors on live data.
import { credentials, Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../../shared/config/keys.js';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient, type HealthCheckResponse } from '../../shared/proto/grpc/health/v1/health.js';
import { StorageServiceClient, type ListDatasetsResponse } from '../../shared/proto/cxrsynth/v1/storage.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const hasPrometheus = spawnSync(PROMETHEUS, ['--version'], { encoding: 'utf8' }).status === 0;

const grpcServiceName = (s: ServiceName) => `cxrsynth.v1.${s[0]!.toUpperCase()}${s.slice(1)}Service`;

interface Listening {
  service: ServiceName;
  grpc: string;
  metrics: string;
}

// --- small helpers: bounded waits, child processes, Prometheus HTTP API -------------------------------

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, last?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last: ${last()}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface Child {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { proc, stdout: '', stderr: '', exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  proc.stdout!.on('data', (d: Buffer) => (child.stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => {
    child.stderr += d.toString();
    if (child.stderr.length > 200_000) child.stderr = child.stderr.slice(-100_000);
  });
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
async function stop(child: Child | undefined, graceMs: number): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

type Sample = { metric: Record<string, string>; value: [number, string] };

async function query(base: string, promql: string): Promise<Sample[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
  return body.data!.result;
}

function healthCheck(client: HealthClient, service: string): Promise<HealthCheckResponse> {
  return new Promise((resolve, reject) =>
    client.check({ service }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

// --- the mesh and Prometheus, started once for the file ---------------------------------------------------

let dir = '';
let mesh: Child | undefined;
let prometheus: Child | undefined;
let promBase = '';
let listening: Listening[] = [];

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CXR_SYNTH_|MINIO_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

describe.skipIf(!hasPrometheus)(`Prometheus scrapes the mesh${hasPrometheus ? '' : ` — SKIPPED: no Prometheus at ${PROMETHEUS} (apt-get install prometheus)`}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cxr-prom-e2e-'));
    mesh = run(process.execPath, [join(ROOT, 'bin/cxr-synth.js'), 'serve', 'all', '--port', '0', '--metrics-port', '0', '--json'], cleanEnv({
      CXR_SYNTH_STORAGE_URL: `file://${join(dir, 'data')}`,
      CXR_SYNTH_HOST: '127.0.0.1',
      CXR_SYNTH_AUTH: 'off',
      CXR_SYNTH_LOG_LEVEL: 'warn',
      HOME: dir,
    }));
    // `serve --json` prints one JSON document, { listening: [{ service, grpc, metrics }] }, once bound.
    listening = await until('`cxr-synth serve all` to report its ports', 120_000, async () => {
      if (mesh!.proc.exitCode !== null) throw new Error(`serve all exited with ${mesh!.proc.exitCode}: ${mesh!.stderr.slice(-2000)}`);
      try {
        return (JSON.parse(mesh!.stdout) as { listening: Listening[] }).listening;
      } catch {
        return undefined;
      }
    }, () => `stdout=${JSON.stringify(mesh!.stdout.slice(-500))} stderr=${JSON.stringify(mesh!.stderr.slice(-1500))}`).catch((e: unknown) => {
      // Surface a crashed CLI's reason instead of a bare timeout.
      throw new Error(`${String(e)}\n--- serve stderr ---\n${mesh!.stderr.slice(-3000)}`);
    });

    const rulesDir = join(ROOT, 'deploy/prometheus/rules');
    const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.yml')).map((f) => join(rulesDir, f));
    // The same job and labels as deploy/prometheus/local.yml, with the ports this run got, scraped fast.
    const targets = listening.map((l) => `      - targets: ["${new URL(l.metrics).host}"]\n        labels: { service: ${l.service} }`).join('\n');
    const config = [
      'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s }',
      `rule_files: [${ruleFiles.map((f) => JSON.stringify(f)).join(', ')}]`,
      'scrape_configs:',
      '  - job_name: cxr-synth',
      '    static_configs:',
      targets,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), config);

    const port = await freePort();
    promBase = `http://127.0.0.1:${port}`;
    prometheus = run(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    await until('Prometheus to be ready', 60_000, async () => {
      if (prometheus!.proc.exitCode !== null) throw new Error(`prometheus exited: ${prometheus!.stderr.slice(-2000)}`);
      const res = await fetch(`${promBase}/-/ready`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? true : undefined;
    }, () => prometheus!.stderr.slice(-1000));
  });

  afterAll(async () => {
    await stop(prometheus, 10_000);
    await stop(mesh, 35_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serve all binds the four services on distinct loopback ports', () => {
    expect(listening.map((l) => l.service).sort()).toEqual([...SERVICE_NAMES].sort());
    const ports = listening.flatMap((l) => [l.grpc.split(':').pop(), new URL(l.metrics).port]);
    expect(new Set(ports).size).toBe(8);
  });

  it('every service answers gRPC health; Prometheus sees every target up and counts those calls by service, method and code', async () => {
    for (const l of listening) {
      const health = new HealthClient(l.grpc, credentials.createInsecure());
      try {
        expect((await healthCheck(health, '')).status, `${l.service} ""`).toBe(Serving.SERVING);
        expect((await healthCheck(health, grpcServiceName(l.service))).status, l.service).toBe(Serving.SERVING);
        const unknown = await healthCheck(health, 'no.such.Service').then(() => undefined, (e: ServiceError) => e);
        expect(unknown?.code, `${l.service}: unknown health service`).toBe(Status.NOT_FOUND);
      } finally {
        health.close();
      }
    }
    const storageAddr = listening.find((l) => l.service === 'storage')!.grpc;
    const storage = new StorageServiceClient(storageAddr, credentials.createInsecure());
    try {
      const list = await new Promise<ListDatasetsResponse>((resolve, reject) =>
        storage.listDatasets({ pageSize: 10, pageToken: '' }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      expect(list.datasets).toEqual([]); // a fresh, empty store
    } finally {
      storage.close();
    }

    let snapshot = '';
    await until('Prometheus to scrape every target and the calls above', 60_000, async () => {
      const up = await query(promBase, 'up{job="cxr-synth"}');
      const okChecks = await query(promBase, 'sum by (service) (grpc_server_handled_total{grpc_service="grpc.health.v1.Health", grpc_method="Check", grpc_code="OK"})');
      const notFound = await query(promBase, 'sum by (service) (grpc_server_handled_total{grpc_service="grpc.health.v1.Health", grpc_code="NOT_FOUND"})');
      const listed = await query(promBase, 'grpc_server_handled_total{service="storage", grpc_service="cxrsynth.v1.StorageService", grpc_method="ListDatasets", grpc_code="OK"}');
      const latency = await query(promBase, 'count by (service) (grpc_server_handling_seconds_bucket{grpc_method="Check"})');
      snapshot = JSON.stringify({ up, okChecks, notFound, listed, latency }).slice(0, 3000);
      const by = (rs: Sample[]) => new Map(rs.map((r) => [r.metric.service, Number(r.value[1])]));
      const allUp = up.length === 4 && up.every((r) => r.value[1] === '1');
      const everyService = (m: Map<string | undefined, number>, min: number) => SERVICE_NAMES.every((s) => (m.get(s) ?? 0) >= min);
      return allUp && everyService(by(okChecks), 2) && everyService(by(notFound), 1) && listed.length === 1 &&
        Number(listed[0]!.value[1]) >= 1 && everyService(by(latency), 1) ? true : undefined;
    }, () => snapshot);

    const up = await query(promBase, 'up{job="cxr-synth"}');
    expect(up.map((r) => r.metric.service).sort()).toEqual([...SERVICE_NAMES].sort());
    // Health calls are counted as unary in the histogram the p99 recording rule reads.
    const types = await query(promBase, 'count by (grpc_type) (grpc_server_handling_seconds_count{grpc_method="Check"})');
    expect(types.map((r) => r.metric.grpc_type)).toEqual(['unary']);
  });

  it('the alert and recording rules evaluate on live data without errors, and no alert fires on a healthy mesh', async () => {
    type Rule = { name: string; health: string; lastError?: string; state?: string; type: string };
    let rules: Rule[] = [];
    await until('every rule to have been evaluated', 90_000, async () => {
      const res = await fetch(`${promBase}/api/v1/rules`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { data: { groups: { rules: Rule[] }[] } };
      rules = body.data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => r.health !== 'unknown') ? true : undefined;
    }, () => JSON.stringify(rules.filter((r) => r.health === 'unknown').map((r) => r.name)));
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError ?? r.health}`)).toEqual([]);
    expect(rules.filter((r) => r.type === 'alerting').length).toBeGreaterThanOrEqual(6);
    expect(rules.filter((r) => r.type === 'alerting' && r.state !== 'inactive').map((r) => `${r.name}: ${r.state}`)).toEqual([]);
  });

  it('every Grafana dashboard query is valid PromQL against this Prometheus', async () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/cxr-synth.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const { title, expr } of exprs) {
      // Grafana's variables, as Grafana would substitute them for "All" and a 1s scrape interval.
      const promql = expr.replaceAll('$service', '.*').replaceAll('$__rate_interval', '1m');
      await query(promBase, promql).catch((e: unknown) => failures.push(`${title}: ${String(e)}`));
    }
    expect(failures).toEqual([]);
  });
});
