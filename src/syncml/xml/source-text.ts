/**
 * Bytes or string → the text the XML parser reads: size limit checked before decoding, strict UTF-8, XML 1.0
 * line-end normalization and the characters XML 1.0 forbids refused. Positions render as line:column.
 */
import { DecodeError } from '../../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * XML 1.0 §2.2: C0 controls other than TAB/LF/CR, and U+FFFE/U+FFFF, are not characters. U+0000 is left to the
 * parser, which drops it from character data and refuses it anywhere else (cursor.ts: a real-client quirk).
 */
// eslint-disable-next-line no-control-regex -- matching the characters XML 1.0 forbids is the point
const ILLEGAL_CHAR = /[\x01-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

/** The characters ILLEGAL_CHAR matches, one string each. */
const ILLEGAL_CHARS: readonly string[] = [
  ...[0x0b, 0x0c, 0xfffe, 0xffff],
  ...Array.from({ length: 8 }, (_, i) => 0x01 + i),
  ...Array.from({ length: 18 }, (_, i) => 0x0e + i),
].map((code) => String.fromCharCode(code));

/**
 * Whether ILLEGAL_CHAR would match: one indexOf per character is a vectorized scan, several times faster than
 * the regular expression on a clean document (the usual case); the expression then finds the first offender.
 */
function holdsIllegalChar(text: string): boolean {
  for (let i = 0; i < ILLEGAL_CHARS.length; i++) if (text.indexOf(ILLEGAL_CHARS[i]!) !== -1) return true;
  return false;
}

/** The text to parse, and whether it holds U+0000 (see Cursor.nul). */
export interface SourceText {
  readonly text: string;
  readonly nul: boolean;
}

/** 1-based line and column (UTF-16 units) of offset `pos` in `text`. Computed only for error messages. */
export function lineColumn(text: string, pos: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `${line}:${pos - lineStart + 1}`;
}

export function tooLarge(size: number, maxBytes: number): DecodeError {
  return new DecodeError(
    'too-large',
    `message of ${size} bytes exceeds the limit of ${maxBytes} bytes`,
    undefined,
    {
      httpStatus: 413,
      status: 413,
    },
  );
}

/**
 * Decodes and normalizes the document; throws DecodeError for oversize input, bad UTF-8 or illegal characters
 * (U+0000 excepted: see ILLEGAL_CHAR).
 */
export function sourceText(input: Uint8Array | string, maxBytes: number): SourceText {
  let text: string;
  if (typeof input === 'string') {
    // Every UTF-16 unit is at least one UTF-8 byte; measure exactly only when it could matter.
    if (input.length > maxBytes) throw tooLarge(utf8Length(input), maxBytes);
    if (input.length * 3 > maxBytes) {
      const size = utf8Length(input);
      if (size > maxBytes) throw tooLarge(size, maxBytes);
    }
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
    if (!isWellFormed(text)) {
      throw new DecodeError(
        'xml-illegal-char',
        'text holds an unpaired surrogate',
        lineColumn(text, firstLoneSurrogate(text)),
      );
    }
  } else {
    if (input.length > maxBytes) throw tooLarge(input.length, maxBytes);
    try {
      text = utf8.decode(input); // drops a leading BOM
    } catch {
      const offset = firstInvalidUtf8(input);
      const before = utf8.decode(input.subarray(0, offset));
      throw new DecodeError(
        'invalid-utf8',
        `invalid UTF-8 at byte ${offset}`,
        lineColumn(before, before.length),
      );
    }
  }
  // XML 1.0 §2.11: CRLF and lone CR become LF before parsing.
  if (text.indexOf('\r') !== -1) text = text.replace(/\r\n?/g, '\n');
  const bad = holdsIllegalChar(text) ? ILLEGAL_CHAR.exec(text) : null;
  if (bad !== null) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new DecodeError(
      'xml-illegal-char',
      `character U+${code} is not allowed in XML 1.0`,
      lineColumn(text, bad.index),
    );
  }
  return { text, nul: text.indexOf('\0') !== -1 };
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

type WellFormedString = string & { isWellFormed?: () => boolean };

function isWellFormed(s: string): boolean {
  const fn = (s as WellFormedString).isWellFormed;
  return fn === undefined ? firstLoneSurrogate(s) === -1 : fn.call(s);
}

function firstLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (error path only). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const n = b[i + k];
      if (n === undefined || (n & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (n & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}
