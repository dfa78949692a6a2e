// The bearer-token file: [{ "token_sha256": "<hex>" | "token": "<plain>", "subject": "...", "roles": [...] }].
// Plain tokens are hashed on load so only hashes stay in memory; the auth layer compares hashes in constant time.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, type Raw } from './parse.js';

export const ROLES = ['hospital', 'researcher', 'service', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenEntry {
  subject: string;
  roles: readonly Role[];
  /** Lowercase hex sha256 of the token. */
  sha256: string;
}

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

export function loadTokens(raw: Raw): TokenEntry[] {
  const path = raw.value.trim();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(raw.key, raw.value, `a readable tokens file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, raw.source);
  }
  return parseTokens(text, raw.key, path);
}

/** Validates the file's JSON. `key`/`path` only shape the error message. */
export function parseTokens(text: string, key = 'CXR_SYNTH_AUTH_TOKENS_FILE', path = '<tokens>'): TokenEntry[] {
  const bad = (what: string): never => {
    throw new ConfigError(key, path, what);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return bad(`JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) return bad('a JSON array of {"token_sha256" or "token", "subject", "roles"}');
  const seen = new Set<string>();
  return parsed.map((item: unknown, i): TokenEntry => {
    if (item === null || typeof item !== 'object') return bad(`entry ${i} to be an object`);
    const e = item as Record<string, unknown>;
    const subject = e.subject;
    if (typeof subject !== 'string' || subject.trim() === '') return bad(`entry ${i} to have a non-empty "subject"`);
    let sha: string;
    if (typeof e.token_sha256 === 'string' && e.token === undefined) {
      sha = e.token_sha256.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(sha)) return bad(`entry ${i} (${subject}): "token_sha256" to be 64 hex characters`);
    } else if (typeof e.token === 'string' && e.token_sha256 === undefined) {
      // 16 chars is a floor against obviously guessable tokens, not a strength guarantee.
      if (e.token.length < 16) return bad(`entry ${i} (${subject}): "token" of at least 16 characters`);
      sha = sha256Hex(e.token);
    } else {
      return bad(`entry ${i} (${subject}): exactly one of "token_sha256" or "token"`);
    }
    if (seen.has(sha)) return bad(`entry ${i} (${subject}): a token not already listed`);
    seen.add(sha);
    const roles = e.roles;
    if (!Array.isArray(roles) || roles.length === 0) return bad(`entry ${i} (${subject}): a non-empty "roles" list`);
    for (const r of roles) {
      if (!(ROLES as readonly unknown[]).includes(r)) {
        return bad(`entry ${i} (${subject}): roles among ${ROLES.join(', ')} (got ${JSON.stringify(r)})`);
      }
    }
    return { subject, roles: [...new Set(roles as Role[])], sha256: sha };
  });
}
