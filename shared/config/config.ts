// Typed configuration, read once at start-up from the environment and an optional JSON file
// (CXR_SYNTH_CONFIG=path; the environment wins). Everything is validated here so a bad value stops the
// process before it serves anything, with an error that names the variable and the value.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONFIG_KEYS, DEFAULT_PORTS, KNOWN_KEYS, SERVICE_NAMES, type ServiceName } from './keys.js';
import {
  ConfigError, parseBool, parseBytes, parseCount, parseDurationMs, parseEnum, parseHost, parseHostPort, parseInteger, parsePort,
  type HostPort, type Raw,
} from './parse.js';
import { loadTokens, type TokenEntry } from './tokens.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type StorageConfig =
  | { kind: 'file'; url: string; dir: string }
  | { kind: 's3'; url: string; bucket: string; prefix: string };

export interface MinioConfig {
  /** Unset unless MINIO_ENDPOINT is set; s3Settings() demands it for s3:// storage. */
  endpoint: HostPort | undefined;
  accessKey: string | undefined;
  secretKey: string | undefined;
  useSsl: boolean;
  region: string;
}

export interface TlsConfig {
  /** Paths (not contents): the gRPC layer reads them when it builds credentials. */
  certFile: string | undefined;
  keyFile: string | undefined;
  caFile: string | undefined;
  clientAuth: 'none' | 'require';
  clientCertFile: string | undefined;
  clientKeyFile: string | undefined;
  serverName: string | undefined;
}

export interface AuthConfig {
  enabled: boolean;
  tokensFile: string | undefined;
  /** Hashes only: raw tokens from the file are hashed on load and dropped. */
  tokens: readonly TokenEntry[];
  /** What this process sends as a client. */
  clientToken: string | undefined;
}

export interface LimitsConfig {
  maxMessageBytes: number;
  maxImageBytes: number;
  maxImagePixels: number;
}

export interface ClientConfig {
  deadlineMs: number;
  streamDeadlineMs: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface Config {
  storage: StorageConfig;
  minio: MinioConfig;
  host: string;
  ports: Readonly<Record<ServiceName, { grpc: number; metrics: number }>>;
  /** Per service, the addresses clients dial: several → round-robin. */
  addresses: Readonly<Record<ServiceName, readonly string[]>>;
  tls: TlsConfig;
  auth: AuthConfig;
  limits: LimitsConfig;
  shutdownDrainMs: number;
  client: ClientConfig;
  logLevel: LogLevel;
  tfBackend: string | undefined;
  /** wasm compute threads; undefined = shared/tf's default (the cores, at most 8). */
  tfThreads: number | undefined;
  /** Secret key of the patient-id pseudonyms made at import; undefined until an operator sets one. */
  deidSalt: string | undefined;
}

export type Env = Record<string, string | undefined>;

/** Reads CXR_SYNTH_CONFIG (if set), overlays the environment, validates, returns a deep-frozen Config. */
/** A pseudonym key short enough to guess would let anyone re-identify patients by hashing candidate ids. */
function parseSalt(raw: Raw): string {
  if (raw.value.length < 16) throw new ConfigError(raw.key, '(hidden)', 'a secret of at least 16 characters', raw.source);
  return raw.value;
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const values = collect(env);
  const get = (key: string): Raw | undefined => values.get(key);
  const str = (key: string): string | undefined => get(key)?.value;

  const storage = parseStorageUrl(get('CXR_SYNTH_STORAGE_URL'), env);

  const minioEndpoint = get('MINIO_ENDPOINT');
  const minio: MinioConfig = {
    endpoint: minioEndpoint ? parseHostPort(minioEndpoint) : undefined,
    accessKey: str('MINIO_ACCESS_KEY'),
    secretKey: str('MINIO_SECRET_KEY'),
    useSsl: opt(get('MINIO_USE_SSL'), parseBool, false),
    region: str('MINIO_REGION') ?? 'us-east-1',
  };

  const hostRaw = get('CXR_SYNTH_HOST');
  const host = hostRaw ? parseHost(hostRaw) : '127.0.0.1';

  const ports = {} as Record<ServiceName, { grpc: number; metrics: number }>;
  const addresses = {} as Record<ServiceName, readonly string[]>;
  for (const s of SERVICE_NAMES) {
    const S = s.toUpperCase();
    ports[s] = {
      grpc: opt(get(`CXR_SYNTH_${S}_PORT`), parsePort, DEFAULT_PORTS[s].grpc),
      metrics: opt(get(`CXR_SYNTH_${S}_METRICS_PORT`), parsePort, DEFAULT_PORTS[s].metrics),
    };
    addresses[s] = parseAddressList(get(`CXR_SYNTH_${S}_ADDR`), `127.0.0.1:${ports[s].grpc || DEFAULT_PORTS[s].grpc}`);
  }

  const tls = parseTls(get);
  const auth = parseAuth(get);

  const limits: LimitsConfig = {
    maxMessageBytes: opt(get('CXR_SYNTH_MAX_MESSAGE_BYTES'), (r) => parseBytes(r, 1024), 36 * 1024 ** 2),
    maxImageBytes: opt(get('CXR_SYNTH_MAX_IMAGE_BYTES'), (r) => parseBytes(r, 1), 32 * 1024 ** 2),
    maxImagePixels: opt(get('CXR_SYNTH_MAX_IMAGE_PIXELS'), (r) => parseCount(r, 1), 40_000_000),
  };

  const client: ClientConfig = {
    deadlineMs: opt(get('CXR_SYNTH_CLIENT_DEADLINE'), (r) => parseDurationMs(r, 1), 30_000),
    streamDeadlineMs: opt(get('CXR_SYNTH_CLIENT_STREAM_DEADLINE'), (r) => parseDurationMs(r, 1), 24 * 3_600_000),
    // grpc-js caps retryPolicy.maxAttempts at 5; 1 disables retries.
    maxAttempts: opt(get('CXR_SYNTH_CLIENT_MAX_ATTEMPTS'), (r) => parseInteger(r, 1, 5), 5),
    initialBackoffMs: opt(get('CXR_SYNTH_CLIENT_INITIAL_BACKOFF'), (r) => parseDurationMs(r, 1), 100),
    maxBackoffMs: opt(get('CXR_SYNTH_CLIENT_MAX_BACKOFF'), (r) => parseDurationMs(r, 1), 5_000),
  };
  if (client.maxBackoffMs < client.initialBackoffMs) {
    const raw = get('CXR_SYNTH_CLIENT_MAX_BACKOFF') ?? get('CXR_SYNTH_CLIENT_INITIAL_BACKOFF')!;
    throw new ConfigError(raw.key, raw.value, 'CXR_SYNTH_CLIENT_MAX_BACKOFF ≥ CXR_SYNTH_CLIENT_INITIAL_BACKOFF', raw.source);
  }

  const config: Config = {
    storage,
    minio,
    host,
    ports,
    addresses,
    tls,
    auth,
    limits,
    shutdownDrainMs: opt(get('CXR_SYNTH_SHUTDOWN_DRAIN'), (r) => parseDurationMs(r, 0), 25_000),
    client,
    logLevel: opt(get('CXR_SYNTH_LOG_LEVEL'), (r) => parseEnum(r, ['debug', 'info', 'warn', 'error'] as const), 'info'),
    tfBackend: str('CXR_SYNTH_TF_BACKEND')?.trim() || undefined,
    tfThreads: opt(get('CXR_SYNTH_TF_THREADS'), (r) => parseInteger(r, 1, 64), undefined),
    deidSalt: opt(get('CXR_SYNTH_DEID_SALT'), parseSalt, undefined),
  };
  return deepFreeze(config);
}

export interface S3Settings {
  endPoint: string;
  port: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  prefix: string;
}

/** For s3:// storage: the MinIO client settings, or a ConfigError naming the missing variable. */
export function s3Settings(config: Readonly<Config>): S3Settings {
  if (config.storage.kind !== 's3') {
    throw new ConfigError('CXR_SYNTH_STORAGE_URL', config.storage.url, 's3://bucket[/prefix] for S3 storage');
  }
  const m = config.minio;
  if (!m.endpoint) throw new ConfigError('MINIO_ENDPOINT', undefined, 'host:port of the S3 server for s3:// storage');
  if (!m.accessKey) throw new ConfigError('MINIO_ACCESS_KEY', undefined, 'the S3 access key for s3:// storage');
  if (!m.secretKey) throw new ConfigError('MINIO_SECRET_KEY', undefined, 'the S3 secret key for s3:// storage');
  return {
    endPoint: m.endpoint.host,
    port: m.endpoint.port,
    useSSL: m.useSsl,
    accessKey: m.accessKey,
    secretKey: m.secretKey,
    region: m.region,
    bucket: config.storage.bucket,
    prefix: config.storage.prefix,
  };
}

// ---------------------------------------------------------------------------------------------

/** File values first, then the environment over them. Empty environment values count as unset. */
function collect(env: Env): Map<string, Raw> {
  const out = new Map<string, Raw>();
  const file = env.CXR_SYNTH_CONFIG?.trim();
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError('CXR_SYNTH_CONFIG', file, `a readable JSON file (${(e as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('CXR_SYNTH_CONFIG', file, 'a JSON object whose keys are configuration variable names');
    }
    for (const [key, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (!KNOWN_KEYS.has(key) || key === 'CXR_SYNTH_CONFIG') {
        throw new ConfigError(key, String(v), `a known key (see CONFIG_KEYS / README); unknown key in ${file}`, file);
      }
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new ConfigError(key, JSON.stringify(v), 'a string, number or boolean', file);
      }
      out.set(key, { key, value: String(v), source: file });
    }
  }
  for (const { key } of CONFIG_KEYS) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') out.set(key, { key, value: v, source: 'environment' });
  }
  return out;
}

function opt<T>(raw: Raw | undefined, parse: (r: Raw) => T, fallback: T): T {
  return raw === undefined ? fallback : parse(raw);
}

function defaultDataDir(env: Env): string {
  let home: string | undefined = env.HOME;
  if (home === undefined) {
    try {
      home = homedir();
    } catch {
      home = undefined;
    }
  }
  return home ? join(home, '.cache', 'cxr-synth', 'data') : resolve('data');
}

function parseStorageUrl(raw: Raw | undefined, env: Env): StorageConfig {
  if (!raw) {
    const dir = defaultDataDir(env);
    return { kind: 'file', url: pathToFileURL(dir).href, dir };
  }
  const v = raw.value.trim();
  const expected = 'file:///absolute/dir or s3://bucket[/prefix]';
  if (v.startsWith('file:')) {
    // Only file:///abs: 'file:rel' or 'file://host/x' would silently land somewhere unexpected.
    if (!v.startsWith('file:///')) throw new ConfigError(raw.key, raw.value, expected, raw.source);
    let dir: string;
    try {
      dir = fileURLToPath(v);
    } catch {
      throw new ConfigError(raw.key, raw.value, expected, raw.source);
    }
    if (!isAbsolute(dir)) throw new ConfigError(raw.key, raw.value, expected, raw.source);
    return { kind: 'file', url: v, dir };
  }
  const s3 = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(v);
  if (s3) {
    const bucket = s3[1]!;
    // S3 bucket naming rules: 3–63 chars, lowercase letters, digits, dots and hyphens.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError(raw.key, raw.value, 's3://bucket with a valid S3 bucket name (3–63 chars: a-z 0-9 . -)', raw.source);
    }
    const prefix = (s3[2] ?? '').replace(/\/+$/, '');
    if (prefix.split('/').some((p) => p === '..' || p === '.') || /[\\\0]/.test(prefix)) {
      throw new ConfigError(raw.key, raw.value, 's3://bucket/prefix without . or .. segments', raw.source);
    }
    return { kind: 's3', url: v, bucket, prefix };
  }
  throw new ConfigError(raw.key, raw.value, expected, raw.source);
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * One address (host:port or a dns:/ipv4:/ipv6:/unix: target passed through), or several IP:port entries
 * for round-robin. Several hostnames can't be one grpc-js target, so that is refused with the alternative.
 */
function parseAddressList(raw: Raw | undefined, fallback: string): readonly string[] {
  if (!raw) return [fallback];
  const v = raw.value.trim();
  if (/^(dns|ipv4|ipv6|unix):/.test(v)) return [v];
  const parts = v.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new ConfigError(raw.key, raw.value, 'host:port or a comma-separated list of IP:port', raw.source);
  const parsed = parts.map((p) => parseHostPort(raw, p));
  if (parsed.length > 1) {
    for (const hp of parsed) {
      const isIp = IPV4.test(hp.host) || hp.host.includes(':') || hp.host === 'localhost';
      if (!isIp) {
        throw new ConfigError(raw.key, raw.value,
          'a list of IP:port (or localhost:port) entries; for hostnames give one DNS name that resolves to every replica (e.g. a headless Service)', raw.source);
      }
    }
  }
  return parts;
}

function parseTls(get: (k: string) => Raw | undefined): TlsConfig {
  const file = (key: string): string | undefined => {
    const raw = get(key);
    if (!raw) return undefined;
    const p = raw.value.trim();
    if (!existsSync(p) || !statSync(p).isFile()) throw new ConfigError(key, raw.value, 'the path of a readable PEM file', raw.source);
    return p;
  };
  const certFile = file('CXR_SYNTH_TLS_CERT');
  const keyFile = file('CXR_SYNTH_TLS_KEY');
  const caFile = file('CXR_SYNTH_TLS_CA');
  if (Boolean(certFile) !== Boolean(keyFile)) {
    const missing = certFile ? 'CXR_SYNTH_TLS_KEY' : 'CXR_SYNTH_TLS_CERT';
    throw new ConfigError(missing, undefined, 'both CXR_SYNTH_TLS_CERT and CXR_SYNTH_TLS_KEY, or neither');
  }
  const authRaw = get('CXR_SYNTH_TLS_CLIENT_AUTH');
  const clientAuth = opt(authRaw, (r) => parseEnum(r, ['none', 'require'] as const), 'none');
  if (clientAuth === 'require') {
    if (!caFile) throw new ConfigError('CXR_SYNTH_TLS_CA', undefined, 'a CA bundle when CXR_SYNTH_TLS_CLIENT_AUTH=require (mutual TLS)');
    if (!certFile) throw new ConfigError('CXR_SYNTH_TLS_CERT', undefined, 'a server certificate when CXR_SYNTH_TLS_CLIENT_AUTH=require (mutual TLS)');
  }
  const clientCertFile = file('CXR_SYNTH_TLS_CLIENT_CERT') ?? certFile;
  const clientKeyFile = file('CXR_SYNTH_TLS_CLIENT_KEY') ?? keyFile;
  if (Boolean(clientCertFile) !== Boolean(clientKeyFile)) {
    throw new ConfigError(clientCertFile ? 'CXR_SYNTH_TLS_CLIENT_KEY' : 'CXR_SYNTH_TLS_CLIENT_CERT', undefined,
      'both CXR_SYNTH_TLS_CLIENT_CERT and CXR_SYNTH_TLS_CLIENT_KEY, or neither');
  }
  return {
    certFile, keyFile, caFile, clientAuth, clientCertFile, clientKeyFile,
    serverName: get('CXR_SYNTH_TLS_SERVER_NAME')?.value.trim() || undefined,
  };
}

function parseAuth(get: (k: string) => Raw | undefined): AuthConfig {
  const fileRaw = get('CXR_SYNTH_AUTH_TOKENS_FILE');
  const modeRaw = get('CXR_SYNTH_AUTH');
  const enabled = modeRaw ? parseEnum(modeRaw, ['on', 'off'] as const) === 'on' : fileRaw !== undefined;
  if (enabled && !fileRaw) {
    throw new ConfigError('CXR_SYNTH_AUTH_TOKENS_FILE', undefined, 'a tokens file when CXR_SYNTH_AUTH=on');
  }
  const tokens = enabled && fileRaw ? loadTokens(fileRaw) : [];
  return {
    enabled,
    tokensFile: fileRaw?.value.trim(),
    tokens,
    clientToken: get('CXR_SYNTH_TOKEN')?.value.trim() || undefined,
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
