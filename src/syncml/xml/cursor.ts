/**
 * A position in the decoded document and the scanning steps every part of the parser shares: names, whitespace,
 * comments, processing instructions, refused declarations, and DecodeErrors located at line:column.
 */
import { DecodeError } from '../../errors.js';
import { isNameStart, isQNameChar, isSpace } from './chars.js';
import { lineColumn } from './source-text.js';

export class Cursor {
  pos = 0;
  /** Offset of the first `:` in the last name read (relative to its start), or -1. */
  protected nameColon = -1;

  /**
   * `nul`: whether the document holds U+0000 at all. Real-client quirk: libdmclient ends `chr` and child-list
   * Data with a NUL (`b1/a2/a1\0`, test/fixtures/libdmclient-sessions/xml-basic-nul-in-data). XML 1.0 §2.2
   * forbids the character; being liberal, we drop it from character data (text and CDATA), as the WBXML decoder
   * drops the trailing NULs of text Data, and still refuse it in markup (names, attribute values, comments, PIs).
   */
  constructor(
    protected readonly src: string,
    protected readonly nul: boolean,
  ) {}

  fail(code: string, message: string, at: number = this.pos): never {
    throw new DecodeError(code, message, lineColumn(this.src, at));
  }

  /** Refuses U+0000 in markup between `start` and `end`. */
  noNul(start: number, end: number): void {
    if (!this.nul) return;
    const at = this.src.indexOf('\0', start);
    if (at !== -1 && at < end)
      this.fail('xml-illegal-char', 'character U+0000 is not allowed in XML 1.0 markup', at);
  }

  /** Character data without the NULs a client may have put there (see `nul`). */
  protected characters(text: string): string {
    return this.nul && text.indexOf('\0') !== -1 ? text.replaceAll('\0', '') : text;
  }

  skipSpace(): void {
    const src = this.src;
    while (isSpace(src.charCodeAt(this.pos))) this.pos++;
  }

  /** A Name (colons allowed, checked by the namespace layer); throws when there is none at pos. */
  name(): string {
    const src = this.src;
    const start = this.pos;
    let c = src.charCodeAt(start);
    if (!isNameStart(c) && c !== 0x3a) this.fail('xml-malformed', 'expected a name');
    let colon = c === 0x3a ? 0 : -1;
    let i = start + 1;
    // charCodeAt past the end is NaN, which no character class accepts.
    for (c = src.charCodeAt(i); isQNameChar(c); c = src.charCodeAt(++i)) {
      if (c === 0x3a && colon === -1) colon = i - start;
    }
    this.pos = i;
    this.nameColon = colon;
    return src.slice(start, i);
  }

  /** At `<`: skips a comment or PI and returns true; refuses declarations; returns false for an element. */
  misc(): boolean {
    const src = this.src;
    const c1 = src.charCodeAt(this.pos + 1);
    if (c1 === 0x3f /* ? */) {
      this.processingInstruction();
      return true;
    }
    if (c1 === 0x21 /* ! */) {
      if (src.startsWith('<!--', this.pos)) {
        this.comment();
        return true;
      }
      this.declaration();
    }
    return false;
  }

  protected processingInstruction(): void {
    const start = this.pos;
    const end = this.src.indexOf('?>', start + 2);
    if (end === -1) this.fail('xml-malformed', 'unterminated processing instruction');
    this.noNul(start, end);
    const target = /^[^\s?]*/.exec(this.src.slice(start + 2, end))?.[0] ?? '';
    if (target === '' || target.toLowerCase() === 'xml') {
      this.fail(
        'xml-malformed',
        target === '' ? 'processing instruction without target' : 'misplaced XML declaration',
        start,
      );
    }
    this.pos = end + 2;
  }

  protected comment(): void {
    const start = this.pos;
    const end = this.src.indexOf('--', start + 4);
    if (end === -1) this.fail('xml-malformed', 'unterminated comment');
    this.noNul(start, end);
    if (this.src.charCodeAt(end + 2) !== 0x3e) this.fail('xml-malformed', '"--" inside a comment', end);
    this.pos = end + 3;
  }

  /** `<!` that is neither a comment nor (in content) CDATA: a DTD construct, never accepted. */
  protected declaration(): never {
    const src = this.src;
    if (src.startsWith('<!DOCTYPE', this.pos)) this.fail('xml-doctype', 'XML DOCTYPE is not allowed');
    if (src.startsWith('<!ENTITY', this.pos))
      this.fail('xml-entity', 'XML entity declarations are not allowed');
    return this.fail('xml-malformed', 'markup declarations are not allowed');
  }
}
