/** UTF-8 decoding of WBXML strings with an ASCII fast path (most SyncML strings are short and ASCII). */
import { DecodeError } from '../../errors.js';

// ignoreBOM: a leading U+FEFF is content, not a byte-order mark, inside a WBXML string.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Below this length a JavaScript loop beats a TextDecoder call. */
const SHORT = 24;

/** Decodes bytes[start, end) as UTF-8; invalid sequences are the sender's fault. `where` locates them. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number, where: number): string {
  if (end - start <= SHORT) {
    let s = '';
    let i = start;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === end) return s;
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch (cause) {
    throw new DecodeError('wbxml-invalid-utf8', 'WBXML string is not valid UTF-8', `byte ${where}`, { cause });
  }
}
