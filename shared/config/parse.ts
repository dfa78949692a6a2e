// Value parsers for configuration. Each one takes the raw string and throws ConfigError naming the
// variable, the bad value and what was expected, so a mis-set deployment fails at start-up with one clear line.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    readonly value: string | undefined,
    readonly expected: string,
    readonly source: string = 'environment',
  ) {
    super(
      value === undefined
        ? `${key} is required (${source}): expected ${expected}`
        : `${key}=${JSON.stringify(value)} is invalid (${source}): expected ${expected}`,
    );
  }
}

/** Where a raw value came from, so the error can say "environment" or the file path. */
export interface Raw {
  key: string;
  value: string;
  source: string;
}

const fail = (raw: Raw, expected: string): never => {
  throw new ConfigError(raw.key, raw.value, expected, raw.source);
};

export function parseBool(raw: Raw): boolean {
  const v = raw.value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return fail(raw, 'true|false (also 1|0, yes|no, on|off)');
}

export function parseInteger(raw: Raw, min: number, max: number): number {
  const v = raw.value.trim();
  if (!/^-?\d+$/.test(v)) return fail(raw, `an integer between ${min} and ${max}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) return fail(raw, `an integer between ${min} and ${max}`);
  return n;
}

export function parsePort(raw: Raw): number {
  // 0 asks the OS for a free port: tests and the embedded demo use it.
  return parseInteger(raw, 0, 65535);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3,
};

/** Byte sizes: a plain integer, or with a unit such as 4MiB, 512KiB, 1GB. */
export function parseBytes(raw: Raw, min = 1): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.value.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return fail(raw, 'a byte size such as 4194304, 4MiB or 512KiB');
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n < min) return fail(raw, `a byte size of at least ${min}`);
  return n;
}

/** Counts such as pixels: an integer, optionally with an M (million) or k (thousand) suffix. */
export function parseCount(raw: Raw, min = 1): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)$/.exec(raw.value.trim());
  if (!m) return fail(raw, 'a positive count such as 40000000 or 40M');
  const mult = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6;
  const n = Math.floor(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n < min) return fail(raw, `a count of at least ${min}`);
  return n;
}

/** Durations in milliseconds: a plain integer (ms) or with a unit: 500ms, 30s, 2m. */
export function parseDurationMs(raw: Raw, min = 0): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(raw.value.trim());
  if (!m) return fail(raw, 'a duration such as 30s, 500ms, 2m or a number of milliseconds');
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!;
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n < min) return fail(raw, `a duration of at least ${min} ms`);
  return n;
}

export function parseEnum<T extends string>(raw: Raw, allowed: readonly T[]): T {
  const v = raw.value.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  return fail(raw, allowed.join('|'));
}

export interface HostPort {
  host: string;
  port: number;
}

/** host:port, [v6]:port. With `defaultPort`, a bare host is accepted too. */
export function parseHostPort(raw: Raw, value: string = raw.value, defaultPort?: number): HostPort {
  const expected = defaultPort === undefined ? 'host:port (no scheme)' : 'host or host:port (no scheme)';
  const v = value.trim();
  if (v === '' || v.includes('://') || /\s/.test(v)) return fail(raw, expected);
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(v);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const parts = v.split(':');
    if (parts.length > 2) return fail(raw, `${expected}; write IPv6 addresses as [addr]:port`);
    host = parts[0]!;
    portText = parts[1];
  }
  if (!/^[A-Za-z0-9.\-_:]+$/.test(host)) return fail(raw, expected);
  if (portText === undefined) {
    if (defaultPort === undefined) return fail(raw, expected);
    return { host, port: defaultPort };
  }
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return fail(raw, `${expected} with a port between 1 and 65535`);
  }
  return { host, port: Number(portText) };
}

/** A bind address or hostname: 0.0.0.0, ::, 127.0.0.1, my-host.local (no port, no scheme). */
export function parseHost(raw: Raw): string {
  const v = raw.value.trim();
  const ipv6 = /^[0-9a-fA-F:.]+$/.test(v) && (v.match(/:/g) ?? []).length >= 2;
  const name = /^[A-Za-z0-9]([A-Za-z0-9.\-_]*[A-Za-z0-9])?$/.test(v);
  if (!ipv6 && !name) return fail(raw, 'a host name or IP address without port or scheme, e.g. 0.0.0.0, ::, 127.0.0.1');
  return v;
}
