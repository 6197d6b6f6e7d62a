/**
 * DM-level credential formulas (security.md §3–§5). Pure functions over bytes; no I/O, no randomness.
 * Strings are UTF-8; B64 is standard Base64 with padding.
 */
import { hash, timingSafeEqual } from 'node:crypto';

const utf8 = new TextEncoder();

export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? utf8.encode(value) : value;
}

/** H(): raw 16-byte MD5. */
export function md5(...parts: readonly (string | Uint8Array)[]): Uint8Array {
  // One-shot over the joined parts: a Hash object with an update per part costs ≈ 3.5 µs for a digest's three
  // short parts, this ≈ 1.5 µs. The digest is viewed, not copied.
  const input = parts.length === 1 ? bytesOf(parts[0]!) : Buffer.concat(parts.map((part) => bytesOf(part)));
  const digest = hash('md5', input, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

function bytesOf(part: string | Uint8Array): Buffer {
  return typeof part === 'string' ? Buffer.from(part, 'utf8') : bufferOf(part);
}

/** A Buffer over the same bytes (no copy) for Node APIs. */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function b64(bytes: Uint8Array): string {
  return bufferOf(bytes).toString('base64');
}

/** Lenient Base64 decoding (ignores whitespace; accepts missing padding). */
export function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
}

/**
 * Constant-time comparison: crypto.timingSafeEqual on equal-length buffers. Different lengths compare a
 * buffer against itself first so the time does not reveal where the inputs differ.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : bufferOf(a);
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : bufferOf(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** security.md §3: Cred/Data = B64(username ":" password). */
export function basicCredential(username: string, password: string): string {
  return b64(toBytes(`${username}:${password}`));
}

/** Splits a basic credential at the first ':'; undefined when it is not `user:pass` in Base64. */
export function parseBasicCredential(data: string): { username: string; password: string } | undefined {
  const text = bufferOf(fromB64(data)).toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The secret a verifier may store instead of the password (security.md §4): B64(H(username ":" password)),
 * the 24-character Base64 text.
 */
export function md5Key(username: string, password: string): string {
  // One-shot crypto.hash: no Hash object per basic check-in.
  return hash('md5', `${username}:${password}`, 'base64');
}

/**
 * security.md §4: Cred/Data = B64(H(B64(H(user:pass)) ":" nonce)). `nonce` is the raw nonce octets (the
 * Base64-decoded NextNonce), never its Base64 text.
 */
export function md5Credential(username: string, password: string, nonce: Uint8Array): string {
  return md5CredentialFromKey(md5Key(username, password), nonce);
}

export function md5CredentialFromKey(key: string, nonce: Uint8Array): string {
  return b64(md5(key, ':', nonce));
}

/**
 * security.md §5: mac = B64(H(B64(H(user:pass)) ":" nonce ":" B64(H(body)))) over the exact body bytes as sent.
 * Not RFC 2104 HMAC, despite the name.
 */
export function hmacMac(username: string, password: string, nonce: Uint8Array, body: Uint8Array): string {
  return b64(md5(md5Key(username, password), ':', nonce, ':', b64(md5(body))));
}
