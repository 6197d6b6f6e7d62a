/**
 * Character classes of XML 1.0 on UTF-16 code units. Names are checked by the Fifth Edition's broad ranges,
 * simplified to "anything from U+00C0 up except × and ÷" (surrogate halves pass, pairing is checked on input).
 */

export function isNameStart(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    c === 0x5f ||
    (c >= 0xc0 && c !== 0xd7 && c !== 0xf7)
  );
}

export function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0xb7;
}

/** NameChar or `:` below U+0080, as a table: the parser's name loop asks this for every character of a name. */
const ASCII_QNAME_CHAR = new Uint8Array(0x80);
for (let c = 0; c < 0x80; c++) if (isNameChar(c) || c === 0x3a) ASCII_QNAME_CHAR[c] = 1;

/** isNameChar(c) || c is `:` (NaN, what charCodeAt gives past the end, is neither). */
export function isQNameChar(c: number): boolean {
  return c < 0x80 ? ASCII_QNAME_CHAR[c] === 1 : c === 0xb7 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7);
}

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}
