// One server interceptor in front of every method: it authenticates and authorizes the call before the handler
// runs, counts messages, tracks calls in flight, records the Prometheus gRPC metrics and writes one log line per
// call (method, code, duration, subject: never payloads or tokens). Interceptors see every handler kind
// (unary, client-, server-, bidi-stream) the same way, which is why this is not done inside the handlers.
import { Metadata, ServerInterceptingCall, status as Status, type ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import type { GrpcServerMetrics, GrpcType } from '../prom/grpc-metrics.js';
import { authorize, type Authenticator, type MethodPolicy, type Principal } from './auth.js';
import { codeName, toStatus } from './errors.js';

/** Metadata key carrying the authenticated subject to handlers; any client-sent value is removed first. */
export const SUBJECT_METADATA_KEY = 'x-cxr-synth-subject';

export interface MethodInfo {
  /** Fully qualified service name, e.g. 'cxrsynth.v1.StorageService'. */
  service: string;
  /** Method name as in the .proto. */
  method: string;
  type: GrpcType;
  /** Absent: an open method (health, reflection). */
  policy?: MethodPolicy;
}

export interface InFlight {
  count: number;
  /** Called whenever count drops. */
  onChange?: () => void;
}

export interface InterceptorOptions {
  methods: ReadonlyMap<string, MethodInfo>;
  /** Absent: auth is off. */
  authenticate?: Authenticator;
  metrics?: GrpcServerMetrics;
  logger: Logger;
  inFlight: InFlight;
}

export function grpcType(requestStream: boolean, responseStream: boolean): GrpcType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/** '/pkg.Service/Method' → { service, method } */
export function splitPath(path: string): { service: string; method: string } {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? { service: m[1]!, method: m[2]! } : { service: 'unknown', method: path };
}

export function createServerInterceptor(options: InterceptorOptions): ServerInterceptor {
  const { methods, authenticate, metrics, logger, inFlight } = options;
  return (descriptor, call) => {
    const info = methods.get(descriptor.path) ?? {
      ...splitPath(descriptor.path),
      type: grpcType(descriptor.requestStream, descriptor.responseStream),
    };
    const labels = { grpc_service: info.service, grpc_method: info.method, grpc_type: info.type };
    const started = process.hrtime.bigint();
    let principal: Principal | undefined;
    let done = false;
    metrics?.start(labels);
    inFlight.count++;

    const finish = (code: Status, details: string | undefined): void => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.finish(labels, codeName(code), seconds);
      inFlight.count--;
      inFlight.onChange?.();
      const fields = {
        service: info.service, method: info.method, type: info.type, code: codeName(code),
        duration_ms: Math.round(seconds * 1e4) / 10, subject: principal?.subject, peer: call.getPeer(),
      };
      // Probes call health every few seconds: keep those out of the info log.
      if (code === Status.OK) (info.service === 'grpc.health.v1.Health' ? logger.debug : logger.info)('rpc', fields);
      else logger.warn('rpc', { ...fields, details });
    };

    // The transport sends some statuses itself (message too large, deadline, undecodable request) through its
    // own sendStatus, bypassing interceptors; observing that method on this call object records them with their
    // real code. (If grpc-js ever stops routing them there, onCancel below still closes the books.)
    const transportSendStatus = call.sendStatus.bind(call);
    call.sendStatus = (s) => {
      finish(s.code, s.details);
      transportSendStatus(s);
    };

    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata: Metadata, nextMetadata: (m: Metadata) => void) => {
            if (authenticate && info.policy && info.policy[info.method] !== 'open') {
              try {
                principal = authenticate(metadata);
                authorize(principal, info.policy, info.service, info.method);
              } catch (err) {
                // The handler is never started: the call ends here with UNAUTHENTICATED / PERMISSION_DENIED.
                intercepting.sendStatus(toStatus(err, logger));
                return;
              }
            }
            // Handlers never see the caller's token, and can trust the subject key.
            metadata.remove('authorization');
            metadata.remove(SUBJECT_METADATA_KEY);
            if (principal) metadata.set(SUBJECT_METADATA_KEY, principal.subject);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message: unknown, nextMessage: (m: unknown) => void) => {
            metrics?.received1(labels);
            nextMessage(message);
          },
          onCancel: () => {
            // Fires after every call; finish() is idempotent, so this only counts calls that ended without a
            // status from us: client cancels, broken connections, forced shutdown.
            const deadline = call.getDeadline();
            const past = deadline instanceof Date ? deadline.getTime() <= Date.now() : Number(deadline) <= Date.now();
            finish(past ? Status.DEADLINE_EXCEEDED : Status.CANCELLED, 'ended by the transport or the client');
          },
        });
      },
      sendMessage: (message, next) => {
        metrics?.sent1(labels);
        next(message);
      },
    });
    return intercepting;
  };
}
