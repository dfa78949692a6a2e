import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { parseTokens, sha256Hex } from '../../shared/config/index.js';
import { authorize, checkPolicy, createAuthenticator, ServiceError, type MethodPolicy } from '../../shared/grpc/index.js';

const HOSPITAL = 'hospital-secret-token-1';
const RESEARCHER = 'researcher-secret-token-1';
const tokens = parseTokens(JSON.stringify([
  { token: HOSPITAL, subject: 'hospital-a', roles: ['hospital'] },
  { token_sha256: sha256Hex(RESEARCHER), subject: 'lab', roles: ['researcher', 'service'] },
]));
const authenticate = createAuthenticator(tokens);

const POLICY: MethodPolicy = {
  Classify: ['hospital', 'researcher', 'service', 'admin'],
  Train: ['researcher', 'service', 'admin'],
  GetModel: 'open',
};

const md = (...values: string[]) => {
  const m = new Metadata();
  for (const v of values) m.add('authorization', v);
  return m;
};
const codeOf = (f: () => unknown): number | undefined => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ServiceError);
    return (e as ServiceError).code;
  }
  return undefined;
};

describe('authenticate', () => {
  it('accepts plain and hashed tokens, with or without case in the scheme', () => {
    expect(authenticate(md(`Bearer ${HOSPITAL}`))).toEqual({ subject: 'hospital-a', roles: ['hospital'] });
    expect(authenticate(md(`bearer ${RESEARCHER}`)).subject).toBe('lab');
  });
  it('refuses missing, malformed, wrong and duplicated credentials with UNAUTHENTICATED', () => {
    for (const m of [md(), md(HOSPITAL), md('Basic abc'), md('Bearer'), md(`Bearer ${HOSPITAL}x`), md(`Bearer ${HOSPITAL.slice(0, -1)}`),
      md(`Bearer ${sha256Hex(HOSPITAL)}`), md(`Bearer ${HOSPITAL}`, `Bearer ${RESEARCHER}`)]) {
      expect(codeOf(() => authenticate(m))).toBe(status.UNAUTHENTICATED);
    }
  });
  it('refuses everything when no tokens are configured', () => {
    expect(codeOf(() => createAuthenticator([])(md(`Bearer ${HOSPITAL}`)))).toBe(status.UNAUTHENTICATED);
  });
});

describe('authorize', () => {
  const hospital = { subject: 'hospital-a', roles: ['hospital'] as const };
  const researcher = { subject: 'lab', roles: ['researcher'] as const };
  it('lets a hospital classify but not train', () => {
    expect(codeOf(() => authorize(hospital, POLICY, 'cxrsynth.v1.ClassifierService', 'Classify'))).toBeUndefined();
    expect(codeOf(() => authorize(hospital, POLICY, 'cxrsynth.v1.ClassifierService', 'Train'))).toBe(status.PERMISSION_DENIED);
    expect(codeOf(() => authorize(researcher, POLICY, 'cxrsynth.v1.ClassifierService', 'Train'))).toBeUndefined();
  });
  it('names who, what and the roles needed', () => {
    expect(() => authorize(hospital, POLICY, 'cxrsynth.v1.ClassifierService', 'Train'))
      .toThrow('hospital-a may not call cxrsynth.v1.ClassifierService/Train: needs one of the roles researcher, service, admin');
  });
  it('opens open methods to anyone and closes unlisted ones', () => {
    expect(codeOf(() => authorize({ subject: 'x', roles: [] }, POLICY, 's', 'GetModel'))).toBeUndefined();
    expect(codeOf(() => authorize(researcher, POLICY, 's', 'Unlisted'))).toBe(status.PERMISSION_DENIED);
  });
});

describe('checkPolicy', () => {
  it('requires exactly the service methods', () => {
    expect(() => checkPolicy('s', ['Classify', 'Train', 'GetModel'], POLICY)).not.toThrow();
    expect(() => checkPolicy('s', ['Classify', 'Train', 'GetModel', 'Evaluate'], POLICY)).toThrow(/missing: Evaluate/);
    expect(() => checkPolicy('s', ['Classify', 'Train'], POLICY)).toThrow(/unknown: GetModel/);
  });
});
