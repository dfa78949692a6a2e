import { defineConfig } from 'vitest/config';

// Two cores: integration suites start real servers (MinIO, gRPC), so run files in a small pool
// and give them generous timeouts rather than flaky ones.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
