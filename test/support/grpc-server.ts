// Child-process server for the SIGTERM drain test: starts the test classifier on a free loopback port with the
// runtime's signal handler installed, prints {"port":N} on stdout, and exits when the drain completes.
// CXR_TEST_DRAIN_MS sets the drain deadline.
import { createLogger } from '../../shared/log/logger.js';
import { startServer } from '../../shared/grpc/index.js';
import { testClassifier } from './grpc.js';

const logger = createLogger({ component: 'child' }, { level: 'warn' });
const server = await startServer({
  services: [testClassifier('child').registration],
  port: 0,
  logger,
  drainDeadlineMs: Number(process.env.CXR_TEST_DRAIN_MS ?? 10_000),
});
server.installSignalHandlers();
process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
