/** A growable byte buffer for the writer, with a UTF-8 string fast path (most SyncML text is ASCII). */
import { EncodeError } from '../../errors.js';

const utf8 = new TextEncoder();
/** Above this length TextEncoder.encodeInto beats a JavaScript loop. */
const NATIVE_ENCODE_FROM = 48;

export class ByteSink {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.len;
  }

  /** Bytes the sink can hold before it grows. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Empties the sink, keeping its buffer (for reuse across documents). */
  clear(): void {
    this.len = 0;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /**
   * Appends `text` as UTF-8 followed by a NUL terminator (STR_I, string-table entries). A NUL inside the text
   * would end the string early, so it is refused: the caller handed us text WBXML cannot carry.
   */
  cstring(text: string): void {
    const n = text.length;
    this.reserve(n * 3 + 1);
    const buf = this.buf;
    let p = this.len;
    if (n >= NATIVE_ENCODE_FROM) {
      const { read, written } = utf8.encodeInto(text, buf.subarray(p));
      if (read !== n) throw new Error('ByteSink: capacity miscalculated');
      if (buf.subarray(p, p + written).includes(0)) throw nulInText(text);
      p += written;
    } else {
      for (let i = 0; i < n; i++) {
        let c = text.charCodeAt(i);
        if (c < 0x80) {
          if (c === 0) throw nulInText(text);
          buf[p++] = c;
        } else if (c < 0x800) {
          buf[p++] = 0xc0 | (c >> 6);
          buf[p++] = 0x80 | (c & 0x3f);
        } else {
          if (c >= 0xd800 && c <= 0xdfff) {
            const lo = i + 1 < n ? text.charCodeAt(i + 1) : 0;
            if (c <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
              c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
              i++;
              buf[p++] = 0xf0 | (c >> 18);
              buf[p++] = 0x80 | ((c >> 12) & 0x3f);
              buf[p++] = 0x80 | ((c >> 6) & 0x3f);
              buf[p++] = 0x80 | (c & 0x3f);
              continue;
            }
            c = 0xfffd; // lone surrogate: same replacement TextEncoder makes
          }
          buf[p++] = 0xe0 | (c >> 12);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
        }
      }
    }
    buf[p++] = 0;
    this.len = p;
  }

  /** The bytes written so far (a view; copy before writing more if you keep it). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A fresh copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function nulInText(text: string): EncodeError {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  return new EncodeError(
    'wbxml-nul-in-text',
    `text ${shown} contains U+0000, which WBXML strings cannot carry`,
  );
}
