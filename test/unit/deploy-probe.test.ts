// The readiness probe in k8s/, run for real: the exact grpc_health_probe command kustomize renders for the
// storage Deployment, against `cxr-synth serve storage` configured like the pod (the ConfigMap's TLS, mTLS
// and auth settings, a certificate laid out like the cxr-synth-tls Secret). Also shows why the manifests
// cannot use kubelet's built-in plaintext gRPC probe, and that the liveness endpoint answers.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseYamlDocuments, type YamlValue } from './deploy-yaml.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CACHE = process.env.CXR_SYNTH_CACHE ?? join(homedir(), '.cache', 'cxr-synth');

function findTool(name: string): string | undefined {
  for (const dir of [join(CACHE, 'bin'), ...(process.env.PATH ?? '').split(delimiter)]) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // next
    }
  }
  return undefined;
}

const kustomize = findTool('kustomize');
const probe = findTool('grpc_health_probe');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const missing = [!kustomize && 'kustomize', !probe && 'grpc_health_probe', !hasOpenssl && 'openssl'].filter(Boolean);

type Obj = { [k: string]: YamlValue };
const asObj = (v: YamlValue | undefined): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A mesh certificate as cert-manager would issue it for the pods: server and client use, names localhost. */
function makeSecretDir(dir: string): void {
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  o('req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=cxr-synth-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost,DNS:storage,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  o('req', '-new', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=storage');
  o('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2', '-extfile', 'leaf.ext');
}

function runProbe(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(probe!, args, { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(missing.length > 0)(`k8s readiness probe against a real TLS service${missing.length ? ` — SKIPPED: missing ${missing.join(', ')} (scripts/kustomize.sh builds the first two)` : ''}`, () => {
  let dir = '';
  let serve: ChildProcess | undefined;
  let serveLog = '';
  let command: string[] = [];
  let metricsPort = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cxr-probe-'));
    const render = execFileSync(kustomize!, ['build', join(ROOT, 'k8s/overlays/cpu')], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const docs = parseYamlDocuments(render).map(asObj);
    const deployment = docs.find((d) => d.kind === 'Deployment' && asObj(d.metadata).name === 'storage')!;
    const container = asObj((asObj(asObj(asObj(deployment.spec).template).spec).containers as YamlValue[])[0]);
    const configMap = asObj(docs.find((d) => d.kind === 'ConfigMap' && asObj(d.metadata).name === 'cxr-synth-config')!.data);
    const manifestCommand = (asObj(asObj(container.readinessProbe).exec).command as YamlValue[]).map(String);

    // The pod's mounts, as local directories: /etc/cxr-synth/tls (Secret cxr-synth-tls), /etc/cxr-synth/auth.
    const local = (p: string) => p.replaceAll('/etc/cxr-synth/', `${dir}/`);
    mkdirSync(join(dir, 'tls'));
    mkdirSync(join(dir, 'auth'));
    makeSecretDir(join(dir, 'tls'));
    writeFileSync(join(dir, 'auth', 'tokens.json'), JSON.stringify([{ token: 'probe-test-token-0123456789abcdef', subject: 'ops', roles: ['service'] }]));

    // Free ports instead of the manifest's (other suites may hold 50051); the command is otherwise verbatim.
    const grpcPort = await freePort();
    metricsPort = await freePort();
    command = manifestCommand.slice(1).map((a) => local(a.replace(/^-addr=localhost:\d+$/, `-addr=localhost:${grpcPort}`)));
    expect(manifestCommand[0]).toBe('grpc_health_probe');

    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(CXR_SYNTH_|MINIO_)/.test(k)) env[k] = v;
    for (const [k, v] of Object.entries(configMap)) if (/^CXR_SYNTH_(TLS|AUTH)/.test(k)) env[k] = local(String(v));
    Object.assign(env, {
      CXR_SYNTH_HOST: '127.0.0.1',
      CXR_SYNTH_STORAGE_URL: `file://${join(dir, 'data')}`,
      CXR_SYNTH_STORAGE_PORT: String(grpcPort),
      CXR_SYNTH_STORAGE_METRICS_PORT: String(metricsPort),
      CXR_SYNTH_LOG_LEVEL: 'warn',
      HOME: dir,
    });
    expect(env.CXR_SYNTH_TLS_CLIENT_AUTH, 'the base runs mutual TLS').toBe('require');

    serve = spawn(process.execPath, [join(ROOT, 'bin/cxr-synth.js'), 'serve', 'storage'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    serve.stdout!.on('data', (d: Buffer) => (serveLog += d.toString()));
    serve.stderr!.on('data', (d: Buffer) => (serveLog += d.toString()));
  });

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve!.once('exit', r));
      serve.kill('SIGTERM');
      const t = setTimeout(() => serve!.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the rendered readiness command reports SERVING over mutual TLS, with auth on and no token', async () => {
    let last = { code: null as number | null, out: '' };
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (serve!.exitCode !== null) throw new Error(`serve storage exited ${serve!.exitCode}: ${serveLog.slice(-2000)}`);
      last = runProbe(command);
      if (last.code === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(last.code, `${last.out}\n${serveLog.slice(-1500)}`).toBe(0);
    expect(last.out).toContain('SERVING');
  });

  it('the same probe without the client certificate, or in plaintext like kubelet\'s grpc probe, is refused', () => {
    const noClientCert = command.filter((a) => !a.startsWith('-tls-client-'));
    expect(runProbe(noClientCert).code).not.toBe(0);
    const plaintext = command.filter((a) => !a.startsWith('-tls'));
    expect(runProbe(plaintext).code).not.toBe(0);
    // And the real one still passes, so the refusals are about credentials, not a dead server.
    expect(runProbe(command).code).toBe(0);
  });

  it('the liveness endpoint (GET /metrics on the metrics port) answers', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('grpc_server_handled_total');
  });
});
