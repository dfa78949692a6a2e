// Errors as gRPC statuses. Handlers throw ServiceError (via the constructors below) with a message written
// for the caller; anything else is a bug or an unexpected fault and reaches the caller only as a generic
// INTERNAL, while the real error is logged (it may hold paths, hostnames or data that callers must not see).
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';

export { Status };

/** Small, caller-safe key/value details; sent as trailing metadata `cxr-detail-<key>`. */
export type ErrorDetails = Readonly<Record<string, string>>;

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: Status,
    message: string,
    readonly details?: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Ctor = (message: string, details?: ErrorDetails, options?: { cause?: unknown }) => ServiceError;
const make = (code: Status): Ctor => (message, details, options) => new ServiceError(code, message, details, options);

export const invalidArgument = make(Status.INVALID_ARGUMENT);
export const notFound = make(Status.NOT_FOUND);
export const alreadyExists = make(Status.ALREADY_EXISTS);
export const failedPrecondition = make(Status.FAILED_PRECONDITION);
export const resourceExhausted = make(Status.RESOURCE_EXHAUSTED);
export const unavailable = make(Status.UNAVAILABLE);
export const unauthenticated = make(Status.UNAUTHENTICATED);
export const permissionDenied = make(Status.PERMISSION_DENIED);
export const deadlineExceeded = make(Status.DEADLINE_EXCEEDED);
export const cancelled = make(Status.CANCELLED);
export const unimplemented = make(Status.UNIMPLEMENTED);
export const outOfRange = make(Status.OUT_OF_RANGE);
export const aborted = make(Status.ABORTED);
export const internal = make(Status.INTERNAL);

export const GENERIC_INTERNAL_MESSAGE = 'internal error (logged on the server)';

/** An error received from another gRPC call (grpc-js client ServiceError shape). */
export function isGrpcStatusError(err: unknown): err is Error & { code: Status; details: string; metadata?: Metadata } {
  if (!(err instanceof Error)) return false;
  const { code, details } = err as Error & { code?: unknown; details?: unknown };
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16 && typeof details === 'string';
}

/** The status a handler's failure becomes on the wire. Unknown errors are logged (if a logger is given). */
export function toStatus(err: unknown, logger?: Logger): StatusObject {
  if (err instanceof ServiceError) {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(err.details ?? {})) metadata.set(`cxr-detail-${k.toLowerCase()}`, v);
    return { code: err.code, details: err.message, metadata };
  }
  if (isGrpcStatusError(err)) {
    // A downstream service's answer: its codes are already caller-safe, except that a downstream refusal of
    // *our* credentials must not tell the caller that *their* token is wrong.
    if (err.code === Status.UNAUTHENTICATED || err.code === Status.PERMISSION_DENIED) {
      logger?.error('downstream call refused this service', { code: Status[err.code], details: err.details });
      return { code: Status.INTERNAL, details: 'a downstream service refused this service\'s credentials', metadata: new Metadata() };
    }
    return { code: err.code, details: err.details, metadata: new Metadata() };
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return { code: Status.CANCELLED, details: 'cancelled', metadata: new Metadata() };
  }
  logger?.error('unhandled error in handler', {
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  return { code: Status.INTERNAL, details: GENERIC_INTERNAL_MESSAGE, metadata: new Metadata() };
}

/** `Status.NOT_FOUND` → "NOT_FOUND", as used in metric labels and logs. */
export function codeName(code: Status): string {
  return Status[code] ?? `CODE_${code}`;
}
