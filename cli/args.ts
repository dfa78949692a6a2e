// Argument parsing shared by the commands: node's parseArgs, strict, so a typo is an error rather
// than an ignored flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies Options;

export function parse(argv: string[], options: Options): Parsed {
  try {
    const { positionals, values } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { positionals, values: values as Parsed['values'] };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function stringOpt(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

function boundedOpt(p: Parsed, name: string, bounds: { min: number; max: number }, integer: boolean): number | undefined {
  const raw = stringOpt(p, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < bounds.min || n > bounds.max) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${bounds.min} to ${bounds.max}, got "${raw}"`);
  }
  return n;
}

export const intOpt = (p: Parsed, name: string, bounds: { min: number; max: number }) => boundedOpt(p, name, bounds, true);
export const numberOpt = (p: Parsed, name: string, bounds: { min: number; max: number }) => boundedOpt(p, name, bounds, false);
