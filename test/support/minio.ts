// A real MinIO server for tests: started on a free loopback port with a temporary data directory,
// stoppable and restartable on the same port and data (fault tests), removed afterwards.
// The binary comes from scripts/minio.sh (built once from the Go module proxy, cached); nothing downloads here.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MinioInfo {
  host: string;
  port: number;
  /** http://host:port */
  url: string;
  accessKey: string;
  secretKey: string;
}

export interface MinioServer extends MinioInfo {
  readonly dataDir: string;
  readonly running: boolean;
  /** Stops the process (SIGTERM, or SIGKILL to simulate a crash); data is kept for start(). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once healthy. */
  start(): Promise<void>;
  /** Stops it and deletes the data directory. */
  dispose(): Promise<void>;
}

export function minioBinary(): string {
  const cache = process.env.CXR_SYNTH_CACHE ?? join(process.env.HOME ?? homedir(), '.cache', 'cxr-synth');
  return process.env.CXR_SYNTH_MINIO_BIN ?? join(cache, 'minio-bin', 'minio');
}

/** Why MinIO cannot start here, or undefined when the binary is present. */
export function minioMissingReason(): string | undefined {
  const bin = minioBinary();
  return existsSync(bin) ? undefined : `MinIO binary not found at ${bin}: run \`bash scripts/minio.sh\` (or npm run setup) first`;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function startMinio(options: { accessKey?: string; secretKey?: string } = {}): Promise<MinioServer> {
  const missing = minioMissingReason();
  if (missing) throw new Error(missing);
  const host = '127.0.0.1';
  const port = await freePort(host);
  const consolePort = await freePort(host);
  const dataDir = mkdtempSync(join(tmpdir(), 'cxr-minio-'));
  const accessKey = options.accessKey ?? 'cxr-test-access';
  const secretKey = options.secretKey ?? 'cxr-test-secret-0123456789';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const launch = async () => {
    log = '';
    const proc = spawn(
      minioBinary(),
      ['server', dataDir, '--address', `${host}:${port}`, '--console-address', `${host}:${consolePort}`, '--quiet'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: dataDir,
          MINIO_ROOT_USER: accessKey,
          MINIO_ROOT_PASSWORD: secretKey,
          MINIO_BROWSER: 'off',
          MINIO_UPDATE: 'off',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (b: Buffer) => {
      log = (log + b.toString()).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    child = proc;
    await waitHealthy(`http://${host}:${port}`, proc, () => log);
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  await launch();
  return {
    host,
    port,
    url: `http://${host}:${port}`,
    accessKey,
    secretKey,
    dataDir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    start: async () => {
      if (child && child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitHealthy(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`MinIO exited during start-up (${proc.exitCode ?? proc.signalCode}): ${log()}`);
    }
    try {
      // live: the process answers; ready: it can serve S3 requests (not "server not initialized").
      const live = await fetch(`${url}/minio/health/live`, { signal: AbortSignal.timeout(1000) });
      const ready = live.ok && (await fetch(`${url}/minio/health/ready`, { signal: AbortSignal.timeout(1000) }));
      if (ready && ready.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`MinIO did not become healthy at ${url} within 60 s: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
