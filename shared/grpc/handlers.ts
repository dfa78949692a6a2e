// Async-style handlers for ts-proto's callback-style grpc-js service interfaces:
//   getDataset: unary(async (req, ctx) => ({ ... })),
//   putImages: clientStream(async (requests, ctx) => { for await (const r of requests) ...; return {...} }),
//   train: serverStream(async (req, send, ctx) => { await send(event); ... }),
// `send` waits when the client reads slower than we write (backpressure) and throws CANCELLED once the call is
// gone; `ctx.signal` aborts when the client cancels, the deadline passes or the server is forced down.
// Failures are thrown; the server's wrapper (wrap.ts) turns them into statuses.
import type {
  handleBidiStreamingCall, handleClientStreamingCall, handleServerStreamingCall, handleUnaryCall, Metadata,
  ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream,
} from '@grpc/grpc-js';
import { cancelled } from './errors.js';
import { SUBJECT_METADATA_KEY } from './interceptor.js';

export interface CallContext {
  /** Aborted when the call ends early (client cancel, deadline, forced shutdown). */
  signal: AbortSignal;
  /** Authenticated subject, or undefined when auth is off. */
  subject: string | undefined;
  metadata: Metadata;
  peer: string;
}

type AnyCall<Req, Res> =
  | ServerUnaryCall<Req, Res> | ServerReadableStream<Req, Res> | ServerWritableStream<Req, Res> | ServerDuplexStream<Req, Res>;

function context<Req, Res>(call: AnyCall<Req, Res>): CallContext {
  const controller = new AbortController();
  const abort = () => controller.abort(cancelled('call cancelled'));
  if (call.cancelled) abort();
  else (call as unknown as NodeJS.EventEmitter).once('cancelled', abort);
  const subject = call.metadata.get(SUBJECT_METADATA_KEY)[0];
  return { signal: controller.signal, subject: subject === undefined ? undefined : String(subject), metadata: call.metadata, peer: call.getPeer() };
}

function sender<Req, Res>(call: ServerWritableStream<Req, Res> | ServerDuplexStream<Req, Res>, signal: AbortSignal): (message: Res) => Promise<void> {
  return async (message) => {
    if (signal.aborted || call.cancelled) throw cancelled('call cancelled');
    if (call.write(message)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        call.off('drain', onDrain);
        reject(cancelled('call cancelled'));
      };
      call.once('drain', onDrain);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}

/**
 * The request stream as an async iterable that does not destroy the call when the loop ends: the default
 * iterator of a Readable destroys it, which on a duplex call would also kill the response side before our
 * answers and the status are sent.
 */
function requestsOf<Req>(call: ServerReadableStream<Req, unknown> | ServerDuplexStream<Req, unknown>): AsyncIterable<Req> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]() as AsyncIterator<Req> };
}

export function unary<Req, Res>(fn: (request: Req, ctx: CallContext) => Promise<Res> | Res): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    return Promise.resolve()
      .then(() => fn(call.request, context(call)))
      .then((res) => callback(null, res), (err: Error) => callback(err));
  };
}

export function clientStream<Req, Res>(fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>): handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    return Promise.resolve()
      .then(() => fn(requestsOf(call), context(call)))
      .then((res) => callback(null, res), (err: Error) => callback(err));
  };
}

export function serverStream<Req, Res>(
  fn: (request: Req, send: (message: Res) => Promise<void>, ctx: CallContext) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const ctx = context(call);
    return fn(call.request, sender(call, ctx.signal), ctx).then(() => {
      if (!call.cancelled) call.end();
    });
  };
}

export function bidiStream<Req, Res>(
  fn: (requests: AsyncIterable<Req>, send: (message: Res) => Promise<void>, ctx: CallContext) => Promise<void>,
): handleBidiStreamingCall<Req, Res> {
  return (call) => {
    const ctx = context(call);
    return fn(requestsOf(call), sender(call, ctx.signal), ctx).then(() => {
      if (!call.cancelled) call.end();
    });
  };
}
