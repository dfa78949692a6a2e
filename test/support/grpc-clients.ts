// Client-side helpers for the runtime tests: a real grpc.reflection.v1 client, health, and status capture.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, type ChannelCredentials, type ClientDuplexStream, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { callUnary, createClient, type ClientFactoryOptions } from '../../shared/grpc/index.js';
import { HealthClient, type HealthCheckResponse } from '../../shared/proto/grpc/health/v1/health.js';

const require = createRequire(import.meta.url);

export interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

type ReflectionClient = {
  ServerReflectionInfo(): ClientDuplexStream<Record<string, string>, ReflectionResponse>;
  close(): void;
};

/** One request/answer over grpc.reflection.v1.ServerReflection/ServerReflectionInfo. */
export async function reflect(address: string, request: Record<string, string>, creds: ChannelCredentials = credentials.createInsecure()): Promise<ReflectionResponse> {
  const protoDir = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const def = loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [protoDir], keepCase: true, oneofs: true });
  const pkg = loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (a: string, c: ChannelCredentials) => ReflectionClient } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, creds);
  try {
    return await new Promise<ReflectionResponse>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (r: ReflectionResponse) => {
        resolve(r);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
  } finally {
    client.close();
  }
}

export function healthClient(options: ClientFactoryOptions): HealthClient {
  return createClient(HealthClient, { retry: { maxAttempts: 1, initialBackoffMs: 50, maxBackoffMs: 50 }, ...options });
}

export function check(client: HealthClient, service: string): Promise<HealthCheckResponse> {
  return callUnary(client, 'check', { service });
}

/** The grpc-js error a promise rejects with (fails the test if it resolves). */
export async function statusOf(p: Promise<unknown>): Promise<GrpcServiceError> {
  try {
    await p;
  } catch (e) {
    return e as GrpcServiceError;
  }
  throw new Error('expected the call to fail');
}

export const noRetry = { maxAttempts: 1, initialBackoffMs: 50, maxBackoffMs: 50 };
