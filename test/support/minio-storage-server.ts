// The storage service as its own process (as deployed), for the benchmark: S3 backend on the MinIO given by
// MINIO_ENDPOINT / MINIO_ACCESS_KEY / MINIO_SECRET_KEY, bucket CXR_BENCH_BUCKET. Prints {"port":N} once serving;
// stops on SIGTERM.
import { startStorage } from './minio-storage.js';

const [host, port] = (process.env.MINIO_ENDPOINT ?? '').split(':');
const harness = await startStorage({
  backend: 's3',
  minio: { host: host!, port: Number(port), url: `http://${host}:${port}`, accessKey: process.env.MINIO_ACCESS_KEY ?? '', secretKey: process.env.MINIO_SECRET_KEY ?? '' },
  bucket: process.env.CXR_BENCH_BUCKET ?? 'bench-ours',
  putConcurrency: Number(process.env.CXR_BENCH_PUT_CONCURRENCY ?? 16),
});
process.stdout.write(JSON.stringify({ port: harness.server.port }) + '\n');
process.once('SIGTERM', () => {
  void harness.close().then(() => process.exit(0));
});
