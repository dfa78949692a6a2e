import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import {
  alreadyExists, cancelled, codeName, deadlineExceeded, failedPrecondition, GENERIC_INTERNAL_MESSAGE, internal, invalidArgument,
  notFound, permissionDenied, resourceExhausted, ServiceError, toStatus, unauthenticated, unavailable,
} from '../../shared/grpc/index.js';
import { createLogger } from '../../shared/log/logger.js';

describe('ServiceError constructors', () => {
  const cases: [(m: string) => ServiceError, status][] = [
    [invalidArgument, status.INVALID_ARGUMENT], [notFound, status.NOT_FOUND], [alreadyExists, status.ALREADY_EXISTS],
    [failedPrecondition, status.FAILED_PRECONDITION], [resourceExhausted, status.RESOURCE_EXHAUSTED], [unavailable, status.UNAVAILABLE],
    [unauthenticated, status.UNAUTHENTICATED], [permissionDenied, status.PERMISSION_DENIED], [deadlineExceeded, status.DEADLINE_EXCEEDED],
    [cancelled, status.CANCELLED], [internal, status.INTERNAL],
  ];
  it.each(cases)('%o → code %i, message kept', (make, code) => {
    const e = make('dataset ds-1 not found');
    expect(e).toBeInstanceOf(ServiceError);
    expect(e).toBeInstanceOf(Error);
    const s = toStatus(e);
    expect(s.code).toBe(code);
    expect(s.details).toBe('dataset ds-1 not found');
  });
});

describe('toStatus', () => {
  it('sends details as cxr-detail-* trailing metadata', () => {
    const s = toStatus(invalidArgument('width must be positive', { field: 'width', Reason: 'range' }));
    expect(s.metadata.get('cxr-detail-field')).toEqual(['width']);
    expect(s.metadata.get('cxr-detail-reason')).toEqual(['range']);
  });

  it('turns unknown errors into a generic INTERNAL and logs the real one', () => {
    const lines: string[] = [];
    const logger = createLogger({}, { level: 'debug', write: (l) => lines.push(l) });
    for (const err of [new Error('ENOENT /var/secret/path'), new TypeError('x is undefined'), 'a string', 42, undefined, { code: 'ECONNREFUSED' }]) {
      const s = toStatus(err, logger);
      expect(s.code).toBe(status.INTERNAL);
      expect(s.details).toBe(GENERIC_INTERNAL_MESSAGE);
    }
    expect(lines.length).toBe(6);
    expect(lines[0]).toContain('ENOENT /var/secret/path');
  });

  it('passes a downstream gRPC status through, but not a downstream auth refusal', () => {
    const downstream = Object.assign(new Error('5 NOT_FOUND: no dataset'), { code: status.NOT_FOUND, details: 'no dataset', metadata: new Metadata() });
    expect(toStatus(downstream)).toMatchObject({ code: status.NOT_FOUND, details: 'no dataset' });
    const refused = Object.assign(new Error('16 UNAUTHENTICATED'), { code: status.UNAUTHENTICATED, details: 'invalid bearer token', metadata: new Metadata() });
    expect(toStatus(refused).code).toBe(status.INTERNAL);
  });

  it('maps AbortError to CANCELLED', () => {
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(toStatus(abort).code).toBe(status.CANCELLED);
  });

  it('names codes', () => {
    expect(codeName(status.OK)).toBe('OK');
    expect(codeName(status.RESOURCE_EXHAUSTED)).toBe('RESOURCE_EXHAUSTED');
  });
});
