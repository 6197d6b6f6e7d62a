/**
 * A read position in WBXML bytes with the primitives every part of the reader shares: bytes, multi-byte
 * integers, inline and string-table strings, entities, and errors located at a byte offset of the outer message.
 */
import { DecodeError } from '../../errors.js';
import * as mbUint32 from './mb-uint32.js';
import type { MbRead } from './mb-uint32.js';
import * as textDecoding from './text-decoding.js';

// Module-local copies: imported bindings cost a getter call per use under some loaders (tsx), on the hottest path.
const { readMbUint32 } = mbUint32;
const { SHORT_STRING, decodeUtf8, latin1Text } = textDecoding;

/** Bytes decoded to Latin-1 text at a time (see WbxmlCursor.text); well under the large-object threshold. */
const TEXT_WINDOW = 4096;

export class WbxmlCursor {
  pos = 0;
  /** Where the string table lies in `bytes` (set by the header reader). */
  strtblStart = 0;
  strtblEnd = 0;
  /** Made on first use, like `mb`: most messages have an empty string table and one-byte integers only. */
  private strtblCache: Map<number, string> | undefined;
  private mb: MbRead | undefined;
  /**
   * A window of the bytes as Latin-1 text, bytes[textStart, textStart + text.length): an ASCII string is a slice
   * of it (for bytes < 0x80 Latin-1 and UTF-8 agree), with no per-byte loop and no rope string. A window rather
   * than the whole input keeps the copy out of the large-object space and a kept string from pinning it all.
   */
  private text = '';
  private textStart = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Offset of these bytes in the outer message, so errors point into the outer bytes. */
    readonly base: number,
  ) {}

  u8(what: string): number {
    if (this.pos >= this.bytes.length)
      this.fail('wbxml-truncated', `WBXML input ends before the ${what}`, this.pos);
    return this.bytes[this.pos++]!;
  }

  mbInt(): number {
    const pos = this.pos;
    const b = this.bytes[pos]!;
    // One byte (< 0x80) is by far the usual case; past the end `b` is undefined and the general reader says so.
    if (b < 0x80) {
      this.pos = pos + 1;
      return b;
    }
    const mb = readMbUint32(this.bytes, pos, (this.mb ??= { value: 0, next: 0 }), this.base);
    this.pos = mb.next;
    return mb.value;
  }

  /** STR_I's string, the cursor just past the token. */
  inlineString(): string {
    const bytes = this.bytes;
    const start = this.pos;
    // Most strings are short ASCII: find the NUL and check for ASCII in one pass, then slice the Latin-1 text
    // (for bytes < 0x80 Latin-1 and UTF-8 agree).
    const shortEnd = Math.min(start + SHORT_STRING, bytes.length);
    for (let i = start; i < shortEnd; i++) {
      const c = bytes[i]!;
      if (c === 0) {
        this.pos = i + 1;
        return this.asciiSlice(start, i);
      }
      if (c >= 0x80) break;
    }
    const nul = bytes.indexOf(0, start);
    if (nul < 0) this.fail('wbxml-truncated', 'inline string (STR_I) has no terminating NUL', start - 1);
    this.pos = nul + 1;
    return decodeUtf8(bytes, start, nul, this.base + start);
  }

  /** bytes[start, end), every byte < 0x80 (the caller checked), end - start ≤ SHORT_STRING. */
  private asciiSlice(start: number, end: number): string {
    let from = start - this.textStart;
    if (from < 0 || end - this.textStart > this.text.length) {
      this.text = latin1Text(this.bytes, start, Math.min(this.bytes.length, start + TEXT_WINDOW));
      this.textStart = start;
      from = 0;
    }
    return this.text.slice(from, from + end - start);
  }

  /** STR_T's (or LITERAL's) string: the offset follows the token. */
  tableRef(): string {
    const at = this.pos - 1;
    return this.tableString(this.mbInt(), at);
  }

  /** The string at `offset` in the string table: up to its NUL, or to the table's end (RTK writes the FPI so). */
  tableString(offset: number, at: number): string {
    const cache = (this.strtblCache ??= new Map<number, string>());
    const cached = cache.get(offset);
    if (cached !== undefined) return cached;
    const size = this.strtblEnd - this.strtblStart;
    if (offset >= size) {
      this.fail(
        'wbxml-bad-string-offset',
        `string table offset ${offset} is outside the ${size}-byte string table`,
        at,
      );
    }
    const start = this.strtblStart + offset;
    const nul = this.bytes.subarray(start, this.strtblEnd).indexOf(0);
    const end = nul < 0 ? this.strtblEnd : start + nul;
    const text = decodeUtf8(this.bytes, start, end, this.base + start);
    cache.set(offset, text);
    return text;
  }

  /** ENTITY's character, the cursor just past the token. */
  entity(): string {
    const at = this.pos - 1;
    const cp = this.mbInt();
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) {
      this.fail('wbxml-bad-entity', `ENTITY ${cp} is not a Unicode scalar value`, at);
    }
    return String.fromCodePoint(cp);
  }

  fail(code: string, message: string, at: number): never {
    throw new DecodeError(code, message, `byte ${this.base + at}`);
  }
}

export function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
