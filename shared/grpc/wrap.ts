// Wraps every handler of a service so that whatever it fails with reaches the caller as a proper status
// (errors.ts: ServiceError → its code; anything else → generic INTERNAL, logged), whether it calls back with an
// error, emits 'error' on a stream, throws, or returns a rejected promise (grpc-js ignores returned promises,
// so without this an async handler's rejection would be an unhandled rejection and the call would hang).
import type {
  Metadata, sendUnaryData, ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream,
  ServiceDefinition, UntypedHandleCall, UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import { toStatus } from './errors.js';

type StatusError = Error & { code: number; details: string; metadata: Metadata };

function statusError(err: unknown, logger: Logger): StatusError {
  const s = toStatus(err, logger);
  return Object.assign(new Error(s.details), { code: s.code, details: s.details, metadata: s.metadata });
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

type Callback = sendUnaryData<unknown>;
type UnaryLike = (call: ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown>, cb: Callback) => unknown;
type StreamLike = (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>) => unknown;

function wrapWithCallback(handler: UnaryLike, logger: Logger): UnaryLike {
  return (call, callback) => {
    let answered = false;
    const cb: Callback = (err, value, trailer, flags) => {
      if (answered) return;
      answered = true;
      if (err) callback(statusError(err, logger));
      else callback(null, value, trailer, flags);
    };
    try {
      const r = handler(call, cb);
      if (isThenable(r)) r.then(undefined, (e: unknown) => cb(e as Error));
    } catch (e) {
      cb(e as Error);
    }
  };
}

function wrapStream(handler: StreamLike, logger: Logger): StreamLike {
  return (call) => {
    // Map errors emitted by the handler before grpc-js's own 'error' listener turns them into a status.
    const emit = call.emit.bind(call);
    call.emit = ((event: string | symbol, ...args: unknown[]) =>
      event === 'error' ? emit('error', statusError(args[0], logger)) : emit(event, ...args)) as typeof call.emit;
    const fail = (e: unknown) => {
      if (!call.writableEnded && !call.destroyed) call.emit('error', e as Error);
    };
    try {
      const r = handler(call);
      if (isThenable(r)) r.then(undefined, fail);
    } catch (e) {
      fail(e);
    }
  };
}

export function wrapImplementation(
  definition: ServiceDefinition, implementation: UntypedServiceImplementation, logger: Logger,
): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [key, method] of Object.entries(definition)) {
    const handler = implementation[key];
    if (typeof handler !== 'function') throw new Error(`implementation lacks ${method.path} (key ${key})`);
    out[key] = (method.responseStream
      ? wrapStream(handler as unknown as StreamLike, logger)
      : wrapWithCallback(handler as unknown as UnaryLike, logger)) as unknown as UntypedHandleCall;
  }
  return out;
}
