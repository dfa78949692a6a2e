// Client factory for ts-proto grpc-js clients (e.g. StorageServiceClient): one target over one or several
// addresses (several → client-side round-robin), a default deadline on every call, retries with exponential
// backoff on UNAVAILABLE (grpc-js retryPolicy from the service config), TLS / mTLS, and the bearer token.
// Plus promise helpers, because ts-proto's grpc-js clients are callback-style.
import {
  CallCredentials, credentials as grpcCredentials, InterceptingCall, Metadata, type CallOptions, type ChannelCredentials,
  type ChannelOptions, type Client, type ClientOptions, type ClientUnaryCall, type ClientWritableStream, type Interceptor,
  type ServiceError as GrpcServiceError,
} from '@grpc/grpc-js';
import type { Config, ServiceName, TlsConfig } from '../config/index.js';
import { channelCredentials, isSecure, serverNameOptions } from './tls.js';

export interface RetryOptions {
  /** Total attempts including the first, 1–5 (grpc-js caps at 5). 1 disables retries. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ClientFactoryOptions {
  /** 'host:port', several 'IP:port' (round-robin), or a full grpc target ('dns:///name:port', 'ipv4:…', 'unix:…'). */
  addresses: readonly string[];
  tls?: Pick<TlsConfig, 'caFile' | 'clientCertFile' | 'clientKeyFile' | 'serverName'>;
  /** Bearer token sent on every call. */
  token?: string;
  /** Deadline for unary and client-stream calls that don't pass one (default 30 s). */
  deadlineMs?: number;
  /**
   * Deadline for server- and bidi-stream calls that don't pass one (default 24 h): those carry training and
   * assessment progress and legitimately run for hours, but still never hang forever.
   */
  streamDeadlineMs?: number;
  retry?: RetryOptions;
  maxMessageBytes?: number;
  channelOptions?: ChannelOptions;
}

/** The shape of a ts-proto grpc-js client constructor. */
export interface ClientConstructor<C extends Client> {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): C;
  serviceName: string;
}

const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5000 };

/** The options clients of `service` get from the configuration. */
export function clientOptionsFromConfig(config: Readonly<Config>, service: ServiceName): ClientFactoryOptions {
  return {
    addresses: config.addresses[service],
    tls: config.tls,
    token: config.auth.clientToken,
    deadlineMs: config.client.deadlineMs,
    streamDeadlineMs: config.client.streamDeadlineMs,
    retry: { maxAttempts: config.client.maxAttempts, initialBackoffMs: config.client.initialBackoffMs, maxBackoffMs: config.client.maxBackoffMs },
    maxMessageBytes: config.limits.maxMessageBytes,
  };
}

/** One grpc target for the addresses: several IP:port become an ipv4:/ipv6: list that round_robin spreads over. */
export function targetFor(addresses: readonly string[]): string {
  if (addresses.length === 0) throw new Error('no address to connect to');
  if (addresses.length === 1) return addresses[0]!;
  const v6 = addresses.map((a) => a.startsWith('['));
  if (v6.some((x) => x !== v6[0])) throw new Error(`cannot mix IPv4 and IPv6 addresses in one target: ${addresses.join(',')}`);
  const list = addresses.map((a) => a.trim().replace(/^localhost:/, '127.0.0.1:'));
  for (const a of list) {
    if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d+$/.test(a)) throw new Error(`round-robin needs IP:port addresses, got ${a}`);
  }
  return `${v6[0] ? 'ipv6' : 'ipv4'}:${list.join(',')}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)}s`;

function serviceConfig(serviceName: string, retry: RetryOptions): string {
  const methodConfig =
    retry.maxAttempts > 1
      ? [{
          name: [{ service: serviceName }],
          retryPolicy: {
            maxAttempts: retry.maxAttempts,
            initialBackoff: seconds(retry.initialBackoffMs),
            maxBackoff: seconds(retry.maxBackoffMs),
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        }]
      : [];
  return JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }], methodConfig });
}

function deadlineInterceptor(ms: number, streamMs: number): Interceptor {
  return (options, nextCall) => {
    if (options.deadline !== undefined) return new InterceptingCall(nextCall(options));
    const d = options.method_definition.responseStream ? streamMs : ms;
    return new InterceptingCall(nextCall({ ...options, deadline: Date.now() + d }));
  };
}

/** grpc-js refuses call credentials on insecure channels, so on plain loopback the token travels as metadata. */
function tokenInterceptor(token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

export function createClient<C extends Client>(ctor: ClientConstructor<C>, options: ClientFactoryOptions): C {
  const tls = options.tls ?? { caFile: undefined, clientCertFile: undefined, clientKeyFile: undefined, serverName: undefined };
  const retry = options.retry ?? DEFAULT_RETRY;
  const secure = isSecure(tls);
  let creds = channelCredentials(tls);
  const interceptors: Interceptor[] = [deadlineInterceptor(options.deadlineMs ?? 30_000, options.streamDeadlineMs ?? 24 * 3_600_000)];
  if (options.token) {
    const token = options.token;
    if (secure) {
      creds = grpcCredentials.combineChannelCredentials(
        creds,
        CallCredentials.createFromMetadataGenerator((_params, cb) => {
          const md = new Metadata();
          md.set('authorization', `Bearer ${token}`);
          cb(null, md);
        }),
      );
    } else {
      interceptors.push(tokenInterceptor(token));
    }
  }
  const maxBytes = options.maxMessageBytes;
  const channelOptions: ChannelOptions = {
    'grpc.service_config': serviceConfig(ctor.serviceName, retry),
    // Reconnect about as fast as we retry, so a server that comes back is found by the next attempt.
    'grpc.initial_reconnect_backoff_ms': retry.initialBackoffMs,
    'grpc.max_reconnect_backoff_ms': retry.maxBackoffMs,
    // grpc-js's default 64 KiB HTTP/2 receive window stalls image and blob streams; 8 MiB keeps them flowing.
    'grpc-node.flow_control_window': 8 * 1024 * 1024,
    ...(maxBytes ? { 'grpc.max_receive_message_length': maxBytes, 'grpc.max_send_message_length': maxBytes } : {}),
    ...serverNameOptions(tls),
    ...options.channelOptions,
  };
  return new ctor(targetFor(options.addresses), creds, { ...channelOptions, interceptors });
}

// ---- promise helpers ---------------------------------------------------------------------------------------

type UnaryCallback<Res> = (error: GrpcServiceError | null, response: Res) => void;
/** ts-proto's last (fullest) overload of a unary method; TypeScript infers from the last overload. */
type UnaryMethod<Req, Res> = (request: Req, metadata: Metadata, options: Partial<CallOptions>, callback: UnaryCallback<Res>) => ClientUnaryCall;
type ClientStreamMethod<Req, Res> = (metadata: Metadata, options: Partial<CallOptions>, callback: UnaryCallback<Res>) => ClientWritableStream<Req>;

type UnaryKeys<C> = { [K in keyof C]: C[K] extends UnaryMethod<infer _Q, infer _R> ? K : never }[keyof C];
type ClientStreamKeys<C> = { [K in keyof C]: C[K] extends ClientStreamMethod<infer _Q, infer _R> ? K : never }[keyof C];
export type RequestOf<F> = F extends UnaryMethod<infer Q, infer _R> ? Q : F extends ClientStreamMethod<infer Q, infer _R> ? Q : never;
export type ResponseOf<F> = F extends UnaryMethod<infer _Q, infer R> ? R : F extends ClientStreamMethod<infer _Q, infer R> ? R : never;

export interface CallExtras {
  metadata?: Metadata;
  /** Overrides the default deadline; Infinity for none. */
  deadline?: Date | number;
  /** Cancels the call (→ CANCELLED) when aborted. */
  signal?: AbortSignal;
}

function callOptions(extras: CallExtras): Partial<CallOptions> {
  return extras.deadline === undefined ? {} : { deadline: extras.deadline };
}

/** Calls `cancel` when `signal` aborts (at once if it already has); returns the unsubscribe. */
export function onAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    queueMicrotask(cancel);
    return () => {};
  }
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

/** `await unary(client, 'getDataset', { id })`: a unary call as a promise (rejects with the grpc-js ServiceError). */
export function unary<C extends Client, K extends UnaryKeys<C>>(
  client: C, method: K, request: RequestOf<C[K]>, extras: CallExtras = {},
): Promise<ResponseOf<C[K]>> {
  const fn = client[method] as unknown as UnaryMethod<RequestOf<C[K]>, ResponseOf<C[K]>>;
  return new Promise((resolve, reject) => {
    let off = () => {};
    const call = fn.call(client, request, extras.metadata ?? new Metadata(), callOptions(extras), (err, res) => {
      off();
      if (err) reject(err);
      else resolve(res);
    });
    off = onAbort(extras.signal, () => call.cancel());
  });
}

/** `await clientStream(client, 'putImages', messages)`: writes every message (with backpressure), then awaits the response. */
export function clientStream<C extends Client, K extends ClientStreamKeys<C>>(
  client: C, method: K, messages: Iterable<RequestOf<C[K]>> | AsyncIterable<RequestOf<C[K]>>, extras: CallExtras = {},
): Promise<ResponseOf<C[K]>> {
  const fn = client[method] as unknown as ClientStreamMethod<RequestOf<C[K]>, ResponseOf<C[K]>>;
  return new Promise((resolve, reject) => {
    let settled = false;
    let off = () => {};
    const call = fn.call(client, extras.metadata ?? new Metadata(), callOptions(extras), (err, res) => {
      settled = true;
      off();
      if (err) reject(err);
      else resolve(res);
    });
    off = onAbort(extras.signal, () => call.cancel());
    (async () => {
      for await (const m of messages) {
        if (settled) return; // the server already answered (e.g. an error): stop writing
        if (!call.write(m)) {
          await new Promise<void>((r) => {
            const done = () => {
              call.off('drain', done);
              call.off('close', done);
              r();
            };
            call.on('drain', done);
            call.on('close', done);
          });
        }
      }
      call.end();
    })().catch((e: unknown) => {
      // The message source failed: cancel the call; its callback then rejects with CANCELLED.
      if (!settled) {
        call.cancel();
        settled = true;
        off();
        reject(e);
      }
    });
  });
}
