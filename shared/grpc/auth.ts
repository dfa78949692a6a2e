// Bearer-token authentication and per-method role checks.
// Tokens arrive as `authorization: Bearer <token>` metadata; we hash the presented token and compare it with
// every configured hash in constant time, so neither timing nor an early exit reveals how much matched.
// Each service declares a policy: method name (as in the .proto) → roles allowed, or 'open'.
// A method missing from the policy is refused at start-up (see checkPolicy), never silently open.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { Role, TokenEntry } from '../config/index.js';
import { permissionDenied, unauthenticated } from './errors.js';

export type { Role };

export interface Principal {
  subject: string;
  roles: readonly Role[];
}

/** Method name as in the .proto (e.g. 'Classify') → roles that may call it, or 'open' for anyone. */
export type MethodPolicy = Readonly<Record<string, readonly Role[] | 'open'>>;

export type Authenticator = (metadata: Metadata) => Principal;

export function createAuthenticator(tokens: readonly TokenEntry[]): Authenticator {
  const table = tokens.map((t) => ({ hash: Buffer.from(t.sha256, 'hex'), principal: Object.freeze({ subject: t.subject, roles: t.roles }) }));
  return (metadata) => {
    const values = metadata.get('authorization');
    if (values.length === 0) throw unauthenticated('missing bearer token: send metadata "authorization: Bearer <token>"');
    if (values.length > 1) throw unauthenticated('more than one authorization header');
    const header = String(values[0]);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unauthenticated('malformed authorization header: expected "Bearer <token>"');
    const presented = createHash('sha256').update(m[1]!, 'utf8').digest();
    let found: Principal | undefined;
    for (const entry of table) {
      // No early exit: every entry is compared.
      if (timingSafeEqual(presented, entry.hash) && found === undefined) found = entry.principal;
    }
    if (!found) throw unauthenticated('invalid bearer token');
    return found;
  };
}

/** Throws PERMISSION_DENIED unless the principal holds a role the policy allows for `method`. */
export function authorize(principal: Principal, policy: MethodPolicy, service: string, method: string): void {
  const allowed = policy[method];
  if (allowed === 'open') return;
  if (allowed === undefined) throw permissionDenied(`${service}/${method} has no access policy`);
  if (!principal.roles.some((r) => allowed.includes(r))) {
    throw permissionDenied(`${principal.subject} may not call ${service}/${method}: needs one of the roles ${allowed.join(', ')}`);
  }
}

/** Start-up check: every method of the service has a policy entry, and no entry names a method that doesn't exist. */
export function checkPolicy(service: string, methods: readonly string[], policy: MethodPolicy): void {
  const missing = methods.filter((m) => !(m in policy));
  const extra = Object.keys(policy).filter((m) => !methods.includes(m));
  if (missing.length || extra.length) {
    throw new Error(
      `access policy of ${service} does not match its methods` +
        (missing.length ? `; missing: ${missing.join(', ')}` : '') +
        (extra.length ? `; unknown: ${extra.join(', ')}` : ''),
    );
  }
}
