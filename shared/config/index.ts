// Public surface of shared/config: import from here.
export { loadConfig, s3Settings } from './config.js';
export type {
  Config, Env, StorageConfig, MinioConfig, TlsConfig, AuthConfig, LimitsConfig, ClientConfig, LogLevel, S3Settings,
} from './config.js';
export { CONFIG_KEYS, SERVICE_NAMES, DEFAULT_PORTS } from './keys.js';
export type { ConfigKey, ServiceName } from './keys.js';
export { ConfigError } from './parse.js';
export type { HostPort } from './parse.js';
export { ROLES, parseTokens, sha256Hex } from './tokens.js';
export type { Role, TokenEntry } from './tokens.js';
