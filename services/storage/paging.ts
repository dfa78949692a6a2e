// Listing pages: page_size validation and opaque page tokens. A token names the listing it belongs to, so a
// token from one listing (or a hand-made one) is refused with INVALID_ARGUMENT instead of silently misbehaving.
import { invalidArgument } from '../../shared/grpc/errors.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** 0 → default; negative → INVALID_ARGUMENT; above the maximum → the maximum. */
export function pageSize(requested: number): number {
  if (!Number.isInteger(requested) || requested < 0) {
    throw invalidArgument(`page_size must be >= 0 (0 means the default of ${DEFAULT_PAGE_SIZE}); got ${requested}`, { field: 'page_size' });
  }
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

export function encodeToken(scope: string, after: string): string {
  return Buffer.from(JSON.stringify({ v: 1, s: scope, a: after })).toString('base64url');
}

/** The position encoded in a token for this scope; undefined for '' (first page). */
export function decodeToken(scope: string, token: string): string | undefined {
  if (token === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const t = parsed as { v?: unknown; s?: unknown; a?: unknown } | undefined;
  if (!t || t.v !== 1 || t.s !== scope || typeof t.a !== 'string') {
    throw invalidArgument('page_token is not a token this listing issued: pass next_page_token from the previous page unchanged', {
      field: 'page_token',
    });
  }
  return t.a;
}
