/** UTF-8 decoding of WBXML strings with an ASCII fast path (most SyncML strings are short and ASCII). */
import { Buffer } from 'node:buffer';
import { DecodeError } from '../../errors.js';

// ignoreBOM: a leading U+FEFF is content, not a byte-order mark, inside a WBXML string.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Below this length building the string in JavaScript beats a TextDecoder call (measured: ~3× for 10 bytes). */
export const SHORT_STRING = 32;
const fromCharCode = String.fromCharCode;

/**
 * bytes[start, end) as a string, every byte < 0x80 (the caller checked). Several char codes per call: one
 * String.fromCharCode per byte allocates a string per byte.
 */
export function asciiString(b: Uint8Array, start: number, end: number): string {
  let i = start;
  let s = '';
  for (; i + 8 <= end; i += 8) {
    s += fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
  }
  switch (end - i) {
    case 0:
      return s;
    case 1:
      return s + fromCharCode(b[i]!);
    case 2:
      return s + fromCharCode(b[i]!, b[i + 1]!);
    case 3:
      return s + fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!);
    case 4:
      return s + fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    default:
      for (; i < end; i++) s += fromCharCode(b[i]!);
      return s;
  }
}

/**
 * bytes[start, end) as a Latin-1 string (one char per byte), in one native copy. Slices of it are the ASCII
 * strings of a document: flat strings without a per-byte loop, where building them char by char made ropes.
 */
export function latin1Text(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** Decodes bytes[start, end) as UTF-8; invalid sequences are the sender's fault. `where` locates them. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, where: number): string {
  if (end - start <= SHORT_STRING) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return asciiString(bytes, start, end);
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch (cause) {
    throw new DecodeError('wbxml-invalid-utf8', 'WBXML string is not valid UTF-8', `byte ${where}`, {
      cause,
    });
  }
}
