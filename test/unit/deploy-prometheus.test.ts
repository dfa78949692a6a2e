// The Prometheus side of deploy/: the scrape configs and rules load in the real promtool, every alert has
// its firing/quiet unit tests (deploy/prometheus/tests, run by `promtool test rules`), and the Grafana
// dashboard only reads recording rules that exist.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PROM_DIR = new URL('../../deploy/prometheus/', import.meta.url).pathname;
const DASHBOARD = new URL('../../deploy/grafana/cxr-synth.json', import.meta.url).pathname;
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

function promtool(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(PROMTOOL, args, { cwd: PROM_DIR, encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

const hasPromtool = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' }).status === 0;
// Debian's prometheus package is built without Kubernetes service discovery, so its promtool cannot
// load prometheus.yml (kubernetes_sd_configs). An upstream promtool can: PROMTOOL=/path/to/promtool.
const k8sCheck = hasPromtool ? promtool('check', 'config', 'prometheus.yml') : undefined;
const noK8sSd = k8sCheck !== undefined && /field kubernetes_sd_configs not found/.test(k8sCheck.out);

const ruleFiles = readdirSync(join(PROM_DIR, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => `rules/${f}`);
const testFiles = readdirSync(join(PROM_DIR, 'tests')).filter((f) => f.endsWith('.yml')).map((f) => `tests/${f}`);
const rulesText = ruleFiles.map((f) => readFileSync(join(PROM_DIR, f), 'utf8')).join('\n');
const alertNames = [...rulesText.matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]!);
const recordNames = new Set([...rulesText.matchAll(/^\s*- record: (\S+)/gm)].map((m) => m[1]!));

describe.skipIf(!hasPromtool)(`Prometheus config and rules${hasPromtool ? '' : ' — SKIPPED: no promtool (apt-get install prometheus)'}`, () => {
  it('local.yml and the rule files it loads pass promtool check config', () => {
    const r = promtool('check', 'config', 'local.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.ok, r.out).toBe(true);
  });

  it.skipIf(noK8sSd)(`prometheus.yml (Kubernetes pod discovery) passes promtool check config${noK8sSd ? ' — SKIPPED: this promtool lacks kubernetes_sd (Debian build); set PROMTOOL to an upstream one' : ''}`, () => {
    expect(k8sCheck!.ok, k8sCheck!.out).toBe(true);
  });

  it('rule files pass promtool check rules', () => {
    const r = promtool('check', 'rules', ...ruleFiles);
    expect(r.ok, r.out).toBe(true);
    expect(alertNames.length).toBeGreaterThanOrEqual(6);
  });

  it('promtool test rules: every alert fires on its synthetic outage and stays quiet on healthy series', () => {
    const r = promtool('test', 'rules', ...testFiles);
    expect(r.ok, r.out).toBe(true);
    const tests = testFiles.map((f) => readFileSync(join(PROM_DIR, f), 'utf8')).join('\n');
    for (const alert of alertNames) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:(.*)`, 'g'))].map((m) => m[1]!.trim());
      // At least one evaluation where it must fire (a non-empty list follows). exp_alerts is an exact
      // list, so the healthy series next to the outage in the same test prove the quiet side.
      expect(cases.length, `${alert}: no test evaluates it`).toBeGreaterThan(0);
      expect(cases.some((c) => !c.startsWith('[]')), `${alert}: no firing case`).toBe(true);
    }
  });
});

describe('Grafana dashboard', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    panels: { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
    templating: { list: { name: string }[] };
  };
  const graphs = dash.panels.filter((p) => p.type !== 'row');

  it('has unique panel ids and every graph queries the selected Prometheus', () => {
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dash.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'service']));
    for (const p of graphs) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('reads only recording rules that deploy/prometheus defines, and covers gRPC, throughput, GPU, TF memory and storage packs', () => {
    const exprs = graphs.flatMap((p) => p.targets!.map((t) => t.expr));
    for (const e of exprs) {
      for (const m of e.matchAll(/\b([a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\b/g)) {
        expect(recordNames.has(m[1]!), `dashboard uses undefined recording rule ${m[1]}`).toBe(true);
      }
    }
    const all = exprs.join('\n');
    for (const needed of ['grpc_server_handled', 'grpc_server_handling_seconds', 'training_steps', 'generated_images', 'cxr_synth_gpu_utilization_ratio', 'cxr_synth_gpu_memory_used_bytes', 'cxr_synth_tf_memory_bytes', 'storage_images_per_read', 'storage_read_amplification']) {
      expect(all, needed).toContain(needed);
    }
  });
});
