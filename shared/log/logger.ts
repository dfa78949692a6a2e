// Structured JSON logs, one object per line on stderr.
// Callers pass fields, never raw payloads: image bytes, tokens and patient data must not reach a log line.
// `redact` drops the field names that most often carry them, as a second line of defence.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED_KEYS = /^(authorization|token|bearer|password|secret|secret_?key|access_?key|data|bytes|chunk|image|pixels|patient_?name|patient_?birth.*)$/i;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
}

function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = REDACTED_KEYS.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export function createLogger(base: LogFields = {}, options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? levelFromEnv()];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVEL_RANK[level] < threshold) return;
    const record = { time: new Date().toISOString(), level, msg, ...(redact({ ...base, ...fields }) as LogFields) };
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, options),
  };
}

function levelFromEnv(): LogLevel {
  const v = process.env.CXR_SYNTH_LOG_LEVEL;
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}
