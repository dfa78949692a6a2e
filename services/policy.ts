// Who may call what. Every method is open to researchers, internal services and admins; hospital
// integrators get only what they need: classify an X-ray, request a synthetic cohort and read it back.
import type { ServiceDefinition } from '@grpc/grpc-js';
import type { MethodPolicy, Role } from '../shared/grpc/index.js';

const STAFF: readonly Role[] = ['researcher', 'service', 'admin'];
const WITH_HOSPITAL: readonly Role[] = ['hospital', ...STAFF];

/** The policy for `definition`: staff everywhere, hospitals on the listed methods (names as in the .proto). */
export function policyFor(definition: ServiceDefinition, hospitalMethods: readonly string[] = []): MethodPolicy {
  const policy: Record<string, readonly Role[]> = {};
  for (const method of Object.values(definition)) {
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    policy[name] = hospitalMethods.includes(name) ? WITH_HOSPITAL : STAFF;
  }
  const unknown = hospitalMethods.filter((m) => !(m in policy));
  if (unknown.length > 0) throw new Error(`policy names methods the service does not have: ${unknown.join(', ')}`);
  return policy;
}
