// Limits of the StorageService wire protocol that both sides must agree on (the service enforces them, clients
// size their messages and calls by them).

/** Largest bytes chunk in one message of PutImages, GetImage(s), PutBlob and GetBlob. */
export const CHUNK_BYTES = 1024 * 1024;

/** Most images one GetImages call may ask for. */
export const GET_IMAGES_MAX = 1000;

/** `bytes` as views of at most CHUNK_BYTES; at least one (empty bytes give one empty chunk). */
export function* chunks<T extends Uint8Array>(bytes: T): Generator<T> {
  if (bytes.byteLength === 0) yield bytes;
  for (let off = 0; off < bytes.byteLength; off += CHUNK_BYTES) yield bytes.subarray(off, off + CHUNK_BYTES) as T;
}

/**
 * One image as messages of PutImages (client to service) or GetImage(s) (service to client): its header with the
 * first chunk, then one message per further chunk, so an image up to CHUNK_BYTES is one message.
 */
export function* imageFrames<H>(header: H, bytes: Buffer): Generator<{ header?: H; chunk: Buffer }> {
  let first = true;
  for (const chunk of chunks(bytes)) {
    yield first ? { header, chunk } : { chunk };
    first = false;
  }
}
