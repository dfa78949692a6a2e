// How storage failures become gRPC statuses. Domain modules throw ServiceErrors for what they decide
// (bad ids, unknown collections, state conflicts); everything the backends and codecs throw is mapped here,
// in one place, so every handler answers the same way: a down backend is UNAVAILABLE naming the cause, a
// corrupt record DATA_LOSS, a bad image INVALID_ARGUMENT with its reason.
import { ServiceError, Status, invalidArgument, resourceExhausted, unavailable, type ErrorDetails } from '../../shared/grpc/errors.js';
import { InvalidImageError } from '../../shared/images/png.js';
import { ObjectNotFoundError, StoreFullError, StoreUnavailableError } from './backends/object-store.js';
import { toStoreError } from './backends/s3.js';
import { CorruptRecordError } from './manifest.js';

export const dataLoss = (message: string, details?: ErrorDetails) => new ServiceError(Status.DATA_LOSS, message, details);

/** Maps any error from the domain or a backend to a ServiceError; unknown errors pass through (→ INTERNAL, logged). */
export function toServiceError(err: unknown): unknown {
  if (err instanceof ServiceError) return err;
  // Raw socket / errno failures (e.g. a read stream cut off midway) become store errors first.
  if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') err = toStoreError(err, 'storage backend');
  if (err instanceof StoreUnavailableError) {
    return unavailable(`storage backend unavailable: ${err.message}`, { cause: err.cause_ });
  }
  if (err instanceof StoreFullError) return resourceExhausted(`storage backend is full: ${err.message}`);
  if (err instanceof InvalidImageError) return invalidArgument(err.message, { reason: err.reason });
  if (err instanceof CorruptRecordError) return dataLoss(err.message);
  // A key the domain believed present vanished between two calls (concurrent delete).
  if (err instanceof ObjectNotFoundError) return new ServiceError(Status.NOT_FOUND, 'the requested object no longer exists (deleted concurrently?)');
  return err;
}

export function isUnavailable(err: unknown): boolean {
  return err instanceof StoreUnavailableError || (err instanceof ServiceError && err.code === Status.UNAVAILABLE);
}
