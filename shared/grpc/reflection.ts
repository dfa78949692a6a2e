// Server reflection (grpcurl, Postman, grpc_cli) from the repository's .proto files. @grpc/reflection needs a
// proto-loader PackageDefinition; the proto/ folder is found by walking up from this module's own file, so it
// works from the source tree and from dist/ whatever the working directory.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';

export function findProtoDir(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'proto');
    // shared/proto/ (generated TypeScript) has the same folders: look for the .proto sources themselves.
    if (existsSync(join(candidate, 'cxrsynth', 'v1', 'common.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`reflection: no proto/cxrsynth/v1 folder above ${start}`);
}

function protoFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return protoFiles(root, p);
    return name.endsWith('.proto') ? [relative(root, p)] : [];
  }).sort();
}

let cached: PackageDefinition | undefined;

/** Every .proto under proto/, loaded once. */
export function loadPackageDefinition(protoDir: string = findProtoDir()): PackageDefinition {
  if (cached) return cached;
  cached = loadSync(protoFiles(protoDir), { includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  return cached;
}

/** Adds grpc.reflection.v1 and v1alpha to `server`, describing `services` (full names) or everything. */
export function addReflection(server: Server, services?: readonly string[], packageDefinition: PackageDefinition = loadPackageDefinition()): void {
  const reflection = new ReflectionService(packageDefinition as ConstructorParameters<typeof ReflectionService>[0],
    services ? { services: [...services] } : undefined);
  reflection.addToServer(server);
}
