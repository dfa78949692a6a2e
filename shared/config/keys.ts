// Every configuration key, its default and what it means, as data: the README's configuration table is
// generated from this list, and loadConfig rejects keys in the config file that are not in it (typos).

export const SERVICE_NAMES = ['storage', 'generator', 'classifier', 'metrics'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Default ports: gRPC 5005x, Prometheus 945x, in SERVICE_NAMES order. */
export const DEFAULT_PORTS: Readonly<Record<ServiceName, { grpc: number; metrics: number }>> = {
  storage: { grpc: 50051, metrics: 9451 },
  generator: { grpc: 50052, metrics: 9452 },
  classifier: { grpc: 50053, metrics: 9453 },
  metrics: { grpc: 50054, metrics: 9454 },
};

export interface ConfigKey {
  /** Environment variable name; the same name is used as the key in the CXR_SYNTH_CONFIG JSON file. */
  key: string;
  /** Default as shown to people; '' means unset. */
  default: string;
  description: string;
}

const upper = (s: ServiceName) => s.toUpperCase();

const serviceKeys: ConfigKey[] = SERVICE_NAMES.flatMap((s) => [
  { key: `CXR_SYNTH_${upper(s)}_PORT`, default: String(DEFAULT_PORTS[s].grpc), description: `gRPC port of the ${s} service (0 = any free port)` },
  { key: `CXR_SYNTH_${upper(s)}_METRICS_PORT`, default: String(DEFAULT_PORTS[s].metrics), description: `Prometheus /metrics port of the ${s} service (0 = any free port)` },
  {
    key: `CXR_SYNTH_${upper(s)}_ADDR`,
    default: `127.0.0.1:${DEFAULT_PORTS[s].grpc}`,
    description: `where clients reach the ${s} service: host:port, a comma-separated list of IP:port (round-robin), or one DNS name that resolves to every replica (headless Service)`,
  },
]);

export const CONFIG_KEYS: readonly ConfigKey[] = Object.freeze([
  { key: 'CXR_SYNTH_CONFIG', default: '', description: 'path of an optional JSON file with any of these keys; environment variables override it' },
  { key: 'CXR_SYNTH_STORAGE_URL', default: 'file://~/.cache/cxr-synth/data (./data without a home directory)', description: 'storage backend: file:///absolute/dir or s3://bucket[/prefix]' },
  { key: 'MINIO_ENDPOINT', default: '', description: 'S3 endpoint as host:port (no scheme), required for s3:// storage' },
  { key: 'MINIO_ACCESS_KEY', default: '', description: 'S3 access key, required for s3:// storage' },
  { key: 'MINIO_SECRET_KEY', default: '', description: 'S3 secret key, required for s3:// storage' },
  { key: 'MINIO_USE_SSL', default: 'false', description: 'talk HTTPS to the S3 endpoint' },
  { key: 'MINIO_REGION', default: 'us-east-1', description: 'S3 region' },
  { key: 'CXR_SYNTH_HOST', default: '127.0.0.1', description: 'address the gRPC and metrics servers bind to (0.0.0.0 in containers)' },
  ...serviceKeys,
  { key: 'CXR_SYNTH_TLS_CERT', default: '', description: 'PEM certificate (chain) of this server; with _KEY turns TLS on' },
  { key: 'CXR_SYNTH_TLS_KEY', default: '', description: 'PEM private key of CXR_SYNTH_TLS_CERT' },
  { key: 'CXR_SYNTH_TLS_CA', default: '', description: 'PEM CA bundle: clients verify servers with it; servers verify client certificates with it' },
  { key: 'CXR_SYNTH_TLS_CLIENT_AUTH', default: 'none', description: 'none|require: require is mutual TLS (needs CXR_SYNTH_TLS_CA)' },
  { key: 'CXR_SYNTH_TLS_CLIENT_CERT', default: '(CXR_SYNTH_TLS_CERT)', description: 'PEM certificate this process presents as a client under mTLS' },
  { key: 'CXR_SYNTH_TLS_CLIENT_KEY', default: '(CXR_SYNTH_TLS_KEY)', description: 'PEM private key of CXR_SYNTH_TLS_CLIENT_CERT' },
  { key: 'CXR_SYNTH_TLS_SERVER_NAME', default: '', description: 'name clients expect in the server certificate, when it differs from the address' },
  { key: 'CXR_SYNTH_AUTH', default: 'on when CXR_SYNTH_AUTH_TOKENS_FILE is set, else off', description: 'off|on: bearer-token auth with roles per method' },
  { key: 'CXR_SYNTH_AUTH_TOKENS_FILE', default: '', description: 'JSON list [{"token_sha256" or "token", "subject", "roles": [...]}]; roles: hospital, researcher, service, admin' },
  { key: 'CXR_SYNTH_TOKEN', default: '', description: 'bearer token this process sends when it calls other services' },
  { key: 'CXR_SYNTH_MAX_MESSAGE_BYTES', default: '36MiB', description: 'largest gRPC message received or sent (larger → RESOURCE_EXHAUSTED); keep it above CXR_SYNTH_MAX_IMAGE_BYTES so a unary Classify can carry any accepted image' },
  { key: 'CXR_SYNTH_MAX_IMAGE_BYTES', default: '32MiB', description: 'largest encoded image accepted' },
  { key: 'CXR_SYNTH_MAX_IMAGE_PIXELS', default: '40000000', description: 'largest width × height accepted (decompression-bomb guard)' },
  { key: 'CXR_SYNTH_SHUTDOWN_DRAIN', default: '25s', description: 'on SIGTERM, how long in-flight calls may finish before they are cancelled' },
  { key: 'CXR_SYNTH_CLIENT_DEADLINE', default: '30s', description: 'default deadline of outgoing unary and client-stream calls' },
  { key: 'CXR_SYNTH_CLIENT_STREAM_DEADLINE', default: '24h', description: 'default deadline of outgoing server- and bidi-stream calls (training, assessment progress)' },
  { key: 'CXR_SYNTH_CLIENT_MAX_ATTEMPTS', default: '5', description: 'attempts per call when the server answers UNAVAILABLE (2–5; 1 = no retry)' },
  { key: 'CXR_SYNTH_CLIENT_INITIAL_BACKOFF', default: '100ms', description: 'first retry backoff; doubles up to CXR_SYNTH_CLIENT_MAX_BACKOFF' },
  { key: 'CXR_SYNTH_CLIENT_MAX_BACKOFF', default: '5s', description: 'largest retry backoff' },
  { key: 'CXR_SYNTH_LOG_LEVEL', default: 'info', description: 'debug|info|warn|error' },
  { key: 'CXR_SYNTH_DEID_SALT', default: '', description: 'secret (16+ characters) keying the pseudonymous patient ids made at import; required to import real data, never logged' },
  { key: 'CXR_SYNTH_TF_BACKEND', default: '', description: 'force a TensorFlow.js backend (tensorflow, wasm, cpu); default: best available' },
  { key: 'CXR_SYNTH_TF_THREADS', default: '', description: 'compute threads of the wasm backend (1 = the single-threaded build); default: the cores, at most 8' },
]);

export const KNOWN_KEYS: ReadonlySet<string> = new Set(CONFIG_KEYS.map((k) => k.key));
