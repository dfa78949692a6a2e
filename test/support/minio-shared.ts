// The run-wide MinIO that test/global-setup.ts started, for test files (not for the fault tests: they start their own).
import { inject } from 'vitest';
import type { MinioInfo } from './minio.js';

export function sharedMinio(): MinioInfo {
  const m = inject('minio');
  if (m === undefined) throw new Error('no MinIO provided: vitest.config.ts must list test/global-setup.ts in globalSetup');
  if ('unavailable' in m) throw new Error(m.unavailable);
  return m;
}
