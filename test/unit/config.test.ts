import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, loadConfig, parseTokens, s3Settings, sha256Hex } from '../../shared/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cxr-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const pem = file('x.pem', '-----BEGIN CERTIFICATE-----\n');
const base = { HOME: '/home/someone' };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig defaults', () => {
  it('gives a frozen config with documented defaults', () => {
    const c = loadConfig(base);
    expect(c.storage).toEqual({ kind: 'file', url: 'file:///home/someone/.cache/cxr-synth/data', dir: '/home/someone/.cache/cxr-synth/data' });
    expect(c.ports.storage).toEqual({ grpc: 50051, metrics: 9451 });
    expect(c.ports.metrics).toEqual({ grpc: 50054, metrics: 9454 });
    expect(c.addresses.classifier).toEqual(['127.0.0.1:50053']);
    expect(c.auth.enabled).toBe(false);
    expect(c.tls.clientAuth).toBe('none');
    expect(c.limits.maxMessageBytes).toBe(36 * 1024 * 1024);
    expect(c.limits.maxImageBytes).toBe(32 * 1024 * 1024);
    expect(c.limits.maxImagePixels).toBe(40_000_000);
    expect(c.shutdownDrainMs).toBe(25_000);
    expect(c.client).toEqual({ deadlineMs: 30_000, streamDeadlineMs: 86_400_000, maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 5000 });
    expect(c.minio.useSsl).toBe(false);
    expect(c.minio.region).toBe('us-east-1');
    expect(c.logLevel).toBe('info');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.ports.storage)).toBe(true);
    expect(() => {
      (c as { host: string }).host = 'x';
    }).toThrow(TypeError);
  });

  it('documents every key it reads', () => {
    const keys = CONFIG_KEYS.map((k) => k.key);
    for (const k of ['CXR_SYNTH_STORAGE_URL', 'MINIO_ENDPOINT', 'MINIO_ACCESS_KEY', 'MINIO_SECRET_KEY', 'MINIO_USE_SSL', 'MINIO_REGION',
      'CXR_SYNTH_TLS_CERT', 'CXR_SYNTH_TLS_KEY', 'CXR_SYNTH_TLS_CA', 'CXR_SYNTH_TLS_CLIENT_AUTH', 'CXR_SYNTH_AUTH', 'CXR_SYNTH_AUTH_TOKENS_FILE',
      'CXR_SYNTH_MAX_MESSAGE_BYTES', 'CXR_SYNTH_MAX_IMAGE_BYTES', 'CXR_SYNTH_MAX_IMAGE_PIXELS', 'CXR_SYNTH_SHUTDOWN_DRAIN',
      'CXR_SYNTH_STORAGE_ADDR', 'CXR_SYNTH_CLASSIFIER_PORT', 'CXR_SYNTH_METRICS_METRICS_PORT', 'CXR_SYNTH_LOG_LEVEL', 'CXR_SYNTH_TF_BACKEND']) {
      expect(keys).toContain(k);
    }
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of CONFIG_KEYS) expect(k.description.length).toBeGreaterThan(5);
  });
});

describe('loadConfig values', () => {
  it('parses storage URLs, units, lists and S3 settings', () => {
    const c = loadConfig({
      ...base,
      CXR_SYNTH_STORAGE_URL: 's3://cxr-synth/team/a/',
      MINIO_ENDPOINT: '127.0.0.1:9000',
      MINIO_ACCESS_KEY: 'ak',
      MINIO_SECRET_KEY: 'sk',
      MINIO_USE_SSL: 'yes',
      CXR_SYNTH_MAX_MESSAGE_BYTES: '4MiB',
      CXR_SYNTH_MAX_IMAGE_PIXELS: '25M',
      CXR_SYNTH_SHUTDOWN_DRAIN: '2s',
      CXR_SYNTH_CLASSIFIER_ADDR: '10.0.0.1:50053, 10.0.0.2:50053',
      CXR_SYNTH_TF_BACKEND: 'wasm',
    });
    expect(c.storage).toEqual({ kind: 's3', url: 's3://cxr-synth/team/a/', bucket: 'cxr-synth', prefix: 'team/a' });
    expect(c.limits.maxMessageBytes).toBe(4 * 1024 * 1024);
    expect(c.limits.maxImagePixels).toBe(25_000_000);
    expect(c.shutdownDrainMs).toBe(2000);
    expect(c.addresses.classifier).toEqual(['10.0.0.1:50053', '10.0.0.2:50053']);
    expect(c.tfBackend).toBe('wasm');
    expect(loadConfig({ ...base, CXR_SYNTH_HOST: '::' }).host).toBe('::');
    expect(loadConfig({ ...base, CXR_SYNTH_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig(base).host).toBe('127.0.0.1');
    expect(s3Settings(c)).toEqual({
      endPoint: '127.0.0.1', port: 9000, useSSL: true, accessKey: 'ak', secretKey: 'sk', region: 'us-east-1', bucket: 'cxr-synth', prefix: 'team/a',
    });
  });

  it('reads the JSON file and lets the environment override it', () => {
    const cfg = file('cfg.json', JSON.stringify({ CXR_SYNTH_STORAGE_PORT: 6000, CXR_SYNTH_LOG_LEVEL: 'debug', MINIO_USE_SSL: true }));
    const c = loadConfig({ ...base, CXR_SYNTH_CONFIG: cfg, CXR_SYNTH_LOG_LEVEL: 'warn' });
    expect(c.ports.storage.grpc).toBe(6000);
    expect(c.addresses.storage).toEqual(['127.0.0.1:6000']);
    expect(c.minio.useSsl).toBe(true);
    expect(c.logLevel).toBe('warn');
  });

  it('turns auth on when a tokens file is given and keeps only hashes', () => {
    const tokens = file('tokens.json', JSON.stringify([{ token: 'a-long-enough-token-1', subject: 'h1', roles: ['hospital'] }]));
    const c = loadConfig({ ...base, CXR_SYNTH_AUTH_TOKENS_FILE: tokens });
    expect(c.auth.enabled).toBe(true);
    expect(c.auth.tokens).toEqual([{ subject: 'h1', roles: ['hospital'], sha256: sha256Hex('a-long-enough-token-1') }]);
    expect(JSON.stringify(c)).not.toContain('a-long-enough-token-1');
    expect(loadConfig({ ...base, CXR_SYNTH_AUTH_TOKENS_FILE: tokens, CXR_SYNTH_AUTH: 'off' }).auth.enabled).toBe(false);
  });

  it('derives mTLS from CA + client auth', () => {
    const c = loadConfig({ ...base, CXR_SYNTH_TLS_CERT: pem, CXR_SYNTH_TLS_KEY: pem, CXR_SYNTH_TLS_CA: pem, CXR_SYNTH_TLS_CLIENT_AUTH: 'require' });
    expect(c.tls).toMatchObject({ certFile: pem, keyFile: pem, caFile: pem, clientAuth: 'require', clientCertFile: pem, clientKeyFile: pem });
  });
});

describe('loadConfig rejects bad values naming the variable and the value', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ CXR_SYNTH_STORAGE_URL: 'http://x' }, 'CXR_SYNTH_STORAGE_URL', /"http:\/\/x".*file:\/\/\/absolute\/dir or s3:\/\/bucket/],
    [{ CXR_SYNTH_STORAGE_URL: 'file:relative' }, 'CXR_SYNTH_STORAGE_URL', /file:relative/],
    [{ CXR_SYNTH_STORAGE_URL: 's3://Bad_Bucket' }, 'CXR_SYNTH_STORAGE_URL', /bucket name/],
    [{ CXR_SYNTH_STORAGE_URL: 's3://bucket/../x' }, 'CXR_SYNTH_STORAGE_URL', /\.\./],
    [{ MINIO_ENDPOINT: 'http://minio:9000' }, 'MINIO_ENDPOINT', /host:port \(no scheme\)/],
    [{ MINIO_ENDPOINT: 'minio' }, 'MINIO_ENDPOINT', /host:port/],
    [{ MINIO_ENDPOINT: 'minio:99999' }, 'MINIO_ENDPOINT', /between 1 and 65535/],
    [{ MINIO_USE_SSL: 'maybe' }, 'MINIO_USE_SSL', /"maybe".*true\|false/],
    [{ CXR_SYNTH_STORAGE_PORT: '70000' }, 'CXR_SYNTH_STORAGE_PORT', /"70000".*between 0 and 65535/],
    [{ CXR_SYNTH_GENERATOR_METRICS_PORT: 'abc' }, 'CXR_SYNTH_GENERATOR_METRICS_PORT', /"abc"/],
    [{ CXR_SYNTH_TLS_CERT: '/nonexistent/cert.pem', CXR_SYNTH_TLS_KEY: pem }, 'CXR_SYNTH_TLS_CERT', /readable PEM file/],
    [{ CXR_SYNTH_TLS_CERT: pem }, 'CXR_SYNTH_TLS_KEY', /required.*both/],
    [{ CXR_SYNTH_TLS_CLIENT_AUTH: 'optional' }, 'CXR_SYNTH_TLS_CLIENT_AUTH', /none\|require/],
    [{ CXR_SYNTH_TLS_CLIENT_AUTH: 'require', CXR_SYNTH_TLS_CERT: pem, CXR_SYNTH_TLS_KEY: pem }, 'CXR_SYNTH_TLS_CA', /mutual TLS/],
    [{ CXR_SYNTH_AUTH: 'on' }, 'CXR_SYNTH_AUTH_TOKENS_FILE', /tokens file/],
    [{ CXR_SYNTH_AUTH: 'sometimes' }, 'CXR_SYNTH_AUTH', /on\|off/],
    [{ CXR_SYNTH_AUTH_TOKENS_FILE: '/nonexistent/tokens.json' }, 'CXR_SYNTH_AUTH_TOKENS_FILE', /ENOENT/],
    [{ CXR_SYNTH_MAX_MESSAGE_BYTES: '4 parsecs' }, 'CXR_SYNTH_MAX_MESSAGE_BYTES', /byte size/],
    [{ CXR_SYNTH_MAX_MESSAGE_BYTES: '10' }, 'CXR_SYNTH_MAX_MESSAGE_BYTES', /at least 1024/],
    [{ CXR_SYNTH_MAX_IMAGE_BYTES: '-5' }, 'CXR_SYNTH_MAX_IMAGE_BYTES', /"-5"/],
    [{ CXR_SYNTH_MAX_IMAGE_PIXELS: '0' }, 'CXR_SYNTH_MAX_IMAGE_PIXELS', /at least 1/],
    [{ CXR_SYNTH_SHUTDOWN_DRAIN: 'soon' }, 'CXR_SYNTH_SHUTDOWN_DRAIN', /duration/],
    [{ CXR_SYNTH_CLIENT_DEADLINE: '0' }, 'CXR_SYNTH_CLIENT_DEADLINE', /at least 1 ms/],
    [{ CXR_SYNTH_CLIENT_STREAM_DEADLINE: 'forever' }, 'CXR_SYNTH_CLIENT_STREAM_DEADLINE', /duration/],
    [{ CXR_SYNTH_CLIENT_MAX_ATTEMPTS: '9' }, 'CXR_SYNTH_CLIENT_MAX_ATTEMPTS', /between 1 and 5/],
    [{ CXR_SYNTH_CLIENT_INITIAL_BACKOFF: '2s', CXR_SYNTH_CLIENT_MAX_BACKOFF: '1s' }, 'CXR_SYNTH_CLIENT_MAX_BACKOFF', /≥/],
    [{ CXR_SYNTH_LOG_LEVEL: 'verbose' }, 'CXR_SYNTH_LOG_LEVEL', /debug\|info\|warn\|error/],
    [{ CXR_SYNTH_STORAGE_ADDR: 'storage-0:1,storage-1:1' }, 'CXR_SYNTH_STORAGE_ADDR', /headless/],
    [{ CXR_SYNTH_STORAGE_ADDR: ' , ' }, 'CXR_SYNTH_STORAGE_ADDR', /host:port/],
    [{ CXR_SYNTH_HOST: 'a b' }, 'CXR_SYNTH_HOST', /host/],
    [{ CXR_SYNTH_HOST: '0.0.0.0:50051' }, 'CXR_SYNTH_HOST', /without port/],
    [{ CXR_SYNTH_HOST: 'http://x' }, 'CXR_SYNTH_HOST', /without port or scheme/],
    [{ CXR_SYNTH_CONFIG: '/nonexistent/cfg.json' }, 'CXR_SYNTH_CONFIG', /readable JSON file/],
  ];
  it.each(cases)('%j → %s', (env, key, message) => {
    const e = errorOf(env);
    expect(e.key).toBe(key);
    expect(e.message).toContain(key);
    expect(e.message).toMatch(message);
  });

  it('rejects unknown keys and nested values in the config file, naming the file', () => {
    const typo = file('typo.json', JSON.stringify({ CXR_SYNTH_STORAGE_PROT: 1 }));
    const e1 = errorOf({ CXR_SYNTH_CONFIG: typo });
    expect(e1.key).toBe('CXR_SYNTH_STORAGE_PROT');
    expect(e1.message).toContain(typo);
    const nested = file('nested.json', JSON.stringify({ CXR_SYNTH_STORAGE_PORT: { a: 1 } }));
    expect(errorOf({ CXR_SYNTH_CONFIG: nested }).message).toMatch(/string, number or boolean/);
    const badValue = file('bad.json', JSON.stringify({ CXR_SYNTH_STORAGE_PORT: 'x' }));
    const e3 = errorOf({ CXR_SYNTH_CONFIG: badValue });
    expect(e3.source).toBe(badValue);
    expect(errorOf({ CXR_SYNTH_CONFIG: file('arr.json', '[]') }).message).toMatch(/JSON object/);
  });

  it('s3Settings names the missing MinIO variable', () => {
    const c = loadConfig({ ...base, CXR_SYNTH_STORAGE_URL: 's3://cxr-synth', MINIO_ENDPOINT: 'minio:9000', MINIO_ACCESS_KEY: 'ak' });
    expect(() => s3Settings(c)).toThrow(/MINIO_SECRET_KEY is required/);
    expect(() => s3Settings(loadConfig({ ...base, CXR_SYNTH_STORAGE_URL: 's3://cxr-synth' }))).toThrow(/MINIO_ENDPOINT is required/);
    expect(() => s3Settings(loadConfig(base))).toThrow(/CXR_SYNTH_STORAGE_URL/);
  });
});

describe('tokens file', () => {
  const sha = sha256Hex('x'.repeat(20));
  it('accepts hashes and plain tokens with known roles', () => {
    expect(parseTokens(JSON.stringify([{ token_sha256: sha.toUpperCase(), subject: 's', roles: ['service', 'service', 'admin'] }])))
      .toEqual([{ subject: 's', roles: ['service', 'admin'], sha256: sha }]);
  });
  const bad: [unknown, RegExp][] = [
    ['{', /JSON/],
    [{}, /array/],
    [[{ token: 'x'.repeat(20), roles: ['admin'] }], /subject/],
    [[{ token: 'short', subject: 'a', roles: ['admin'] }], /at least 16/],
    [[{ token_sha256: 'abc', subject: 'a', roles: ['admin'] }], /64 hex/],
    [[{ token: 'x'.repeat(20), token_sha256: sha, subject: 'a', roles: ['admin'] }], /exactly one/],
    [[{ subject: 'a', roles: ['admin'] }], /exactly one/],
    [[{ token: 'x'.repeat(20), subject: 'a', roles: [] }], /non-empty "roles"/],
    [[{ token: 'x'.repeat(20), subject: 'a', roles: ['root'] }], /"root"/],
    [[{ token: 'x'.repeat(20), subject: 'a', roles: ['admin'] }, { token_sha256: sha, subject: 'b', roles: ['admin'] }], /not already listed/],
  ];
  it.each(bad)('%j is rejected', (value, message) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    expect(() => parseTokens(text)).toThrow(ConfigError);
    expect(() => parseTokens(text)).toThrow(message);
  });
});

describe('de-identification salt', () => {
  it('is kept when long enough, and a short one is refused without echoing it', () => {
    expect(loadConfig({ CXR_SYNTH_DEID_SALT: 'a-secret-of-20-chars' }).deidSalt).toBe('a-secret-of-20-chars');
    expect(loadConfig({}).deidSalt).toBeUndefined();
    let message = '';
    try {
      loadConfig({ CXR_SYNTH_DEID_SALT: 'short-salt' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('CXR_SYNTH_DEID_SALT');
    expect(message).not.toContain('short-salt');
  });
});
