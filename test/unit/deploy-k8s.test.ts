// Renders the Kubernetes manifests with the real kustomize (scripts/kustomize.sh builds it) and checks the
// properties a cluster would only reveal at deploy time: GPU requests where they belong, gRPC readiness
// probes that can actually speak to a TLS port, no secret values in the manifests, non-root containers,
// and configuration keys, ports and Service names that agree with shared/config.
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, KNOWN_KEYS, SERVICE_NAMES } from '../../shared/config/keys.js';
import { parseYamlDocuments, type YamlValue } from './deploy-yaml.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SECRET_NAMES = ['cxr-synth-minio', 'cxr-synth-tls', 'cxr-synth-tokens', 'cxr-synth-service-token'];
/** Environment variables whose value is a credential: they may only come from a Secret. */
const CREDENTIAL_ENV = /(^|_)(SECRET|PASSWORD|ACCESS_KEY|TOKEN|ROOT_USER)(_|$)/;

function findKustomize(): string | undefined {
  const cache = process.env.CXR_SYNTH_CACHE ?? join(homedir(), '.cache', 'cxr-synth');
  const candidates = [process.env.KUSTOMIZE, join(cache, 'bin', 'kustomize'), ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'kustomize'))];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

const kustomize = findKustomize();

// --- typed views over parsed YAML -----------------------------------------------------------------
type Obj = { [key: string]: YamlValue };
const isObj = (v: YamlValue | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: YamlValue | undefined, what: string): Obj => {
  if (!isObj(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
};
const arr = (v: YamlValue | undefined): YamlValue[] => (Array.isArray(v) ? v : []);
const str = (v: YamlValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

interface Resource {
  kind: string;
  name: string;
  doc: Obj;
}

function build(dir: string): Resource[] {
  const out = execFileSync(kustomize!, ['build', join(ROOT, dir)], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return parseYamlDocuments(out).map((d, i) => {
    const doc = obj(d, `document ${i}`);
    const meta = obj(doc.metadata, `document ${i} metadata`);
    return { kind: String(doc.kind), name: String(meta.name), doc };
  });
}

const byKind = (rs: Resource[], kind: string) => rs.filter((r) => r.kind === kind);
const one = (rs: Resource[], kind: string, name: string): Resource => {
  const r = rs.find((x) => x.kind === kind && x.name === name);
  if (!r) throw new Error(`no ${kind}/${name} in the build`);
  return r;
};

/** Pod template of a Deployment, StatefulSet or Job. */
const podTemplate = (r: Resource): Obj => obj(obj(r.doc.spec, `${r.name} spec`).template, `${r.name} template`);
const podSpec = (r: Resource): Obj => obj(podTemplate(r).spec, `${r.name} pod spec`);
const containers = (r: Resource): Obj[] => arr(podSpec(r).containers).map((c, i) => obj(c, `${r.name} container ${i}`));
const workloads = (rs: Resource[]) => rs.filter((r) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(r.kind));

function envOf(c: Obj): Map<string, Obj> {
  return new Map(arr(c.env).map((e) => [String(obj(e, 'env').name), obj(e, 'env')]));
}

function configMapData(rs: Resource[]): Obj {
  return obj(one(rs, 'ConfigMap', 'cxr-synth-config').doc.data, 'ConfigMap data');
}

/** The effective value of a plain (non-secret) setting in a container: its env entry, else the ConfigMap. */
function setting(rs: Resource[], c: Obj, key: string): string | undefined {
  const e = envOf(c).get(key);
  if (e) return str(e.value);
  return str(configMapData(rs)[key]);
}

/** A cxr-synth container (not the dev MinIO): the one that reads shared/config settings. */
const ours = (c: Obj): boolean => /^cxr-synth(:|$)/.test(String(c.image));

function port(c: Obj, name: string): number {
  const p = arr(c.ports).map((x) => obj(x, 'port')).find((x) => x.name === name);
  if (!p) throw new Error(`container ${String(c.name)} has no port named ${name}`);
  return Number(p.containerPort);
}

// Every Kubernetes object in the mesh's manifests, rendered once per overlay.
const renders = kustomize
  ? { cpu: build('k8s/overlays/cpu'), gpu: build('k8s/overlays/gpu'), job: build('k8s/jobs/assessment-cells') }
  : undefined;

describe('deploy-yaml reader', () => {
  it('reads the kustomize dialect: compact sequences, quoted scalars, literal blocks, empty collections', () => {
    const [doc] = parseYamlDocuments(
      [
        'a:',
        '- name: x',
        '  value: "50051"',
        '- plain',
        'b:',
        "  q: 'it''s'",
        '  n: 3',
        '  t: true',
        '  e: {}',
        '  l: []',
        '  s: |',
        '    line one',
        '',
        '    line two',
        'c: metadata.annotations[\'x\']',
      ].join('\n'),
    );
    expect(doc).toEqual({
      a: [{ name: 'x', value: '50051' }, 'plain'],
      b: { q: "it's", n: 3, t: true, e: {}, l: [], s: 'line one\n\nline two\n' },
      c: "metadata.annotations['x']",
    });
  });

  it('refuses syntax outside that dialect instead of misreading it', () => {
    expect(() => parseYamlDocuments('a: &anchor 1')).toThrow(/not supported/);
    expect(() => parseYamlDocuments('a: {b: 1}')).toThrow(/not supported/);
    expect(() => parseYamlDocuments('a: 1\n   b: 2')).toThrow(/indentation/);
  });
});

describe.skipIf(!renders)(`k8s manifests${kustomize ? '' : ' — SKIPPED: no kustomize binary (run scripts/kustomize.sh)'}`, () => {
  // The describe body is still collected when skipped: stand-in empty renders keep that from throwing.
  const r = renders ?? { cpu: [], gpu: [], job: [] };
  const overlays = { cpu: r.cpu, gpu: r.gpu } as const;

  for (const [name, rs] of Object.entries(overlays)) {
    describe(`overlay ${name}`, () => {
      it('has a Deployment, a headless Service and a PodDisruptionBudget per service, on the configured ports', () => {
        expect(byKind(rs, 'Deployment').map((d) => d.name).sort()).toEqual([...SERVICE_NAMES].sort());
        for (const s of SERVICE_NAMES) {
          const [c] = containers(one(rs, 'Deployment', s));
          expect(c!.args, s).toEqual(['serve', s]);
          expect(port(c!, 'grpc'), `${s} gRPC port`).toBe(DEFAULT_PORTS[s].grpc);
          expect(port(c!, 'metrics'), `${s} metrics port`).toBe(DEFAULT_PORTS[s].metrics);
          expect(setting(rs, c!, `CXR_SYNTH_${s.toUpperCase()}_PORT`)).toBe(String(DEFAULT_PORTS[s].grpc));
          expect(setting(rs, c!, `CXR_SYNTH_${s.toUpperCase()}_METRICS_PORT`)).toBe(String(DEFAULT_PORTS[s].metrics));
          expect(setting(rs, c!, 'CXR_SYNTH_HOST'), 'containers must bind beyond loopback').toBe('0.0.0.0');

          const svc = obj(one(rs, 'Service', s).doc.spec, `${s} Service`);
          expect(svc.clusterIP, `${s} Service must be headless for client-side round-robin`).toBe('None');
          expect(obj(svc.selector, 'selector')['app.kubernetes.io/name']).toBe(s);
          const grpcPort = arr(svc.ports).map((p) => obj(p, 'port')).find((p) => p.name === 'grpc');
          // Clients dial CXR_SYNTH_<S>_ADDR: it must name this Service and its port.
          expect(setting(rs, c!, `CXR_SYNTH_${s.toUpperCase()}_ADDR`)).toBe(`${s}:${String(grpcPort?.port)}`);

          const pdb = obj(one(rs, 'PodDisruptionBudget', s).doc.spec, `${s} PDB`);
          expect(obj(obj(pdb.selector, 'pdb selector').matchLabels, 'matchLabels')['app.kubernetes.io/name']).toBe(s);
        }
      });

      it('probes readiness with gRPC health on the gRPC port, in a way that works with its TLS setting', () => {
        for (const d of byKind(rs, 'Deployment')) {
          for (const c of containers(d)) {
            const readiness = obj(c.readinessProbe, `${d.name} readinessProbe`);
            const grpcPort = port(c, 'grpc');
            const tls = setting(rs, c, 'CXR_SYNTH_TLS_CERT') !== undefined;
            if (readiness.grpc !== undefined) {
              // kubelet's own gRPC probe is plaintext: only valid when the port is plaintext.
              expect(tls, `${d.name}: a built-in grpc probe cannot reach a TLS port`).toBe(false);
              expect(obj(readiness.grpc, 'grpc').port).toBe(grpcPort);
            } else {
              const cmd = arr(obj(readiness.exec, `${d.name} readiness exec`).command).map(String);
              expect(cmd[0], `${d.name}: readiness must be a gRPC health check`).toBe('grpc_health_probe');
              expect(cmd).toContain(`-addr=localhost:${grpcPort}`);
              if (tls) {
                expect(cmd).toContain('-tls');
                // Under mutual TLS the probe must present a client certificate, from the mounted TLS Secret.
                if (setting(rs, c, 'CXR_SYNTH_TLS_CLIENT_AUTH') === 'require') {
                  const cert = cmd.find((a) => a.startsWith('-tls-client-cert='))?.split('=')[1];
                  expect(cert, `${d.name}: mTLS probe needs -tls-client-cert`).toBe(setting(rs, c, 'CXR_SYNTH_TLS_CERT'));
                }
              }
            }
            expect(c.livenessProbe, `${d.name} livenessProbe`).toBeDefined();
          }
        }
      });

      it('takes TLS files, tokens and keys from mounted Secrets, never inline values', () => {
        expect(byKind(rs, 'Secret'), 'Secrets are created out of band, not rendered').toEqual([]);
        const cm = configMapData(rs);
        for (const key of Object.keys(cm)) {
          expect(CREDENTIAL_ENV.test(key), `ConfigMap must not carry credential ${key}`).toBe(false);
          // A typo here would be silently ignored by the services: every key must be a known setting.
          expect(KNOWN_KEYS.has(key), `ConfigMap key ${key} is not in shared/config/keys.ts`).toBe(true);
        }
        for (const w of workloads([...rs, ...r.job])) {
          const volumes = new Map(arr(podSpec(w).volumes).map((v) => [String(obj(v, 'volume').name), obj(v, 'volume')]));
          for (const v of volumes.values()) {
            const secretName = isObj(v.secret) ? str(v.secret.secretName) : undefined;
            if (secretName) expect(SECRET_NAMES, `${w.name} mounts an unknown Secret`).toContain(secretName);
          }
          for (const c of containers(w)) {
            for (const [name, e] of envOf(c)) {
              if (ours(c) && /^(CXR_SYNTH_|MINIO_)/.test(name)) expect(KNOWN_KEYS.has(name), `${w.name}: unknown setting ${name}`).toBe(true);
              if (!CREDENTIAL_ENV.test(name)) continue;
              expect(e.value, `${w.name}: ${name} must not be inline`).toBeUndefined();
              const ref = obj(obj(e.valueFrom, `${name} valueFrom`).secretKeyRef, `${name} secretKeyRef`);
              expect(SECRET_NAMES).toContain(ref.name);
            }
            // The file settings must point into a volume mounted from a Secret.
            for (const key of ['CXR_SYNTH_TLS_CERT', 'CXR_SYNTH_TLS_KEY', 'CXR_SYNTH_TLS_CA', 'CXR_SYNTH_AUTH_TOKENS_FILE']) {
              const path = setting(rs, c, key);
              if (!ours(c) || !path) continue;
              if (key === 'CXR_SYNTH_AUTH_TOKENS_FILE' && setting(rs, c, 'CXR_SYNTH_AUTH') === 'off') continue;
              const mount = arr(c.volumeMounts).map((m) => obj(m, 'mount')).find((m) => path.startsWith(`${String(m.mountPath)}/`));
              expect(mount, `${w.name}: ${key}=${path} is not under a mounted volume`).toBeDefined();
              const vol = volumes.get(String(mount!.name));
              expect(isObj(vol?.secret), `${w.name}: ${key} must come from a Secret volume`).toBe(true);
            }
          }
        }
        // Only storage talks to the object store, so only storage (and the dev MinIO) hold its keys.
        for (const d of byKind(rs, 'Deployment')) {
          const hasKeys = containers(d).some((c) => envOf(c).has('MINIO_SECRET_KEY'));
          expect(hasKeys, `${d.name} MINIO_SECRET_KEY`).toBe(d.name === 'storage');
        }
      });

      it('runs every container as non-root, read-only, without privilege escalation or capabilities', () => {
        const all = workloads([...rs, ...r.job]);
        expect(all.map((w) => w.name)).toContain('minio');
        for (const w of all) {
          const pod = obj(podSpec(w).securityContext ?? {}, `${w.name} pod securityContext`);
          for (const c of containers(w)) {
            const sc = obj(c.securityContext ?? {}, `${w.name} securityContext`);
            const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
            const uid = sc.runAsUser ?? pod.runAsUser;
            expect(nonRoot, `${w.name}/${String(c.name)} runAsNonRoot`).toBe(true);
            if (uid !== undefined) expect(Number(uid), `${w.name} runAsUser`).toBeGreaterThan(0);
            expect(sc.allowPrivilegeEscalation, `${w.name} allowPrivilegeEscalation`).toBe(false);
            expect(sc.readOnlyRootFilesystem, `${w.name} readOnlyRootFilesystem`).toBe(true);
            expect(arr(obj(sc.capabilities ?? {}, 'capabilities').drop)).toContain('ALL');
          }
        }
      });

      it('lets Prometheus find every service pod on its metrics port (deploy/prometheus/prometheus.yml)', () => {
        for (const d of byKind(rs, 'Deployment')) {
          const meta = obj(podTemplate(d).metadata, `${d.name} template metadata`);
          const labels = obj(meta.labels, 'labels');
          const ann = obj(meta.annotations, 'annotations');
          // prometheus.yml keeps pods by these labels, scrapes the port named "metrics", labels by name.
          expect(labels['app.kubernetes.io/part-of']).toBe('cxr-synth');
          expect(labels['app.kubernetes.io/name']).toBe(d.name);
          expect(ann['prometheus.io/scrape']).toBe('true');
          expect(ann['prometheus.io/port']).toBe(String(port(containers(d)[0]!, 'metrics')));
        }
      });

      it('gives SIGTERM time to drain before the kubelet kills the pod', () => {
        const drain = String(configMapData(rs).CXR_SYNTH_SHUTDOWN_DRAIN ?? '25s');
        const drainSeconds = Number(/^(\d+)s$/.exec(drain)?.[1]);
        for (const d of byKind(rs, 'Deployment')) {
          expect(Number(podSpec(d).terminationGracePeriodSeconds), d.name).toBeGreaterThan(drainSeconds + 5);
        }
      });
    });
  }

  const gpuLimit = (c: Obj): unknown => {
    const res = obj(c.resources ?? {}, 'resources');
    return { requests: obj(res.requests ?? {}, 'requests')['nvidia.com/gpu'], limits: obj(res.limits ?? {}, 'limits')['nvidia.com/gpu'] };
  };

  it('gpu overlay: generator and classifier take one GPU each, on GPU nodes, with TensorFlow and the GPU image', () => {
    for (const s of ['generator', 'classifier']) {
      const d = one(r.gpu, 'Deployment', s);
      const [c] = containers(d);
      expect(gpuLimit(c!), s).toEqual({ requests: 1, limits: 1 });
      expect(envOf(c!).get('CXR_SYNTH_TF_BACKEND')?.value, s).toBe('tensorflow');
      expect(String(c!.image), s).toMatch(/-gpu$/);
      expect(obj(podSpec(d).nodeSelector, `${s} nodeSelector`)['nvidia.com/gpu.present']).toBe('true');
      const tolerations = arr(podSpec(d).tolerations).map((t) => obj(t, 'toleration'));
      expect(tolerations.some((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule'), `${s} tolerates GPU taint`).toBe(true);
    }
    for (const s of ['storage', 'metrics']) {
      const [c] = containers(one(r.gpu, 'Deployment', s));
      expect(gpuLimit(c!), `${s} needs no GPU`).toEqual({ requests: undefined, limits: undefined });
      expect(String(c!.image), s).not.toMatch(/-gpu$/);
    }
  });

  it('cpu overlay: no GPU requests, GPU node selectors or forced backend anywhere', () => {
    for (const w of workloads(r.cpu)) {
      expect(podSpec(w).nodeSelector, w.name).toBeUndefined();
      for (const c of containers(w)) {
        expect(gpuLimit(c), w.name).toEqual({ requests: undefined, limits: undefined });
        expect(envOf(c).has('CXR_SYNTH_TF_BACKEND'), w.name).toBe(false);
      }
    }
  });

  it('assessment cells: an Indexed Job whose pods receive their completion index as the cell number', () => {
    const job = one(r.job, 'Job', 'assessment-cells');
    const spec = obj(job.doc.spec, 'job spec');
    expect(spec.completionMode).toBe('Indexed');
    expect(Number(spec.completions)).toBeGreaterThan(0);
    expect(podSpec(job).restartPolicy).toBe('Never');
    const [c] = containers(job);
    const index = envOf(c!).get('CELL_INDEX');
    expect(obj(obj(index?.valueFrom, 'valueFrom').fieldRef, 'fieldRef').fieldPath).toBe(
      "metadata.annotations['batch.kubernetes.io/job-completion-index']",
    );
    const args = arr(c!.args).map(String);
    expect(args[args.indexOf('--cell') + 1]).toBe('$(CELL_INDEX)');
    expect(obj(job.doc.metadata, 'meta').namespace).toBe('cxr-synth');
  });
});
