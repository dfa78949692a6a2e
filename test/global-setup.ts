// vitest globalSetup: one temporary directory and one real MinIO for the whole run, shared by every test file.
// TMPDIR points every test's os.tmpdir() (test certificates and keys, token files, data directories) into the
// run's directory, which is removed at the end, so a run leaves nothing behind, even from a test that failed.
// Tests read it with `inject('minio')`. When the binary has not been built the run still starts (unit tests need no
// MinIO) and `minio` carries the reason instead, so S3 suites fail with an actionable message rather than skipping.
// Fault tests that stop and restart MinIO start their own with startMinio() so they cannot disturb other files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { minioMissingReason, startMinio, type MinioInfo } from './support/minio.js';

declare module 'vitest' {
  export interface ProvidedContext {
    minio: MinioInfo | { unavailable: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = mkdtempSync(join(tmpdir(), 'cxr-synth-test-'));
  process.env.TMPDIR = runDir; // test workers start after this and inherit it
  const removeRunDir = () => rmSync(runDir, { recursive: true, force: true });
  const missing = minioMissingReason();
  if (missing) {
    project.provide('minio', { unavailable: missing });
    return async () => removeRunDir();
  }
  const server = await startMinio();
  project.provide('minio', {
    host: server.host,
    port: server.port,
    url: server.url,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
  });
  return async () => {
    await server.dispose();
    removeRunDir();
  };
}
