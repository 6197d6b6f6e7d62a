/**
 * WBXML bytes → namespace-resolved Element tree (wbxml.md §1–§2). Reads WBXML 1.0–1.3 with the SyncML DM code
 * pages; knows nothing about SyncML semantics (embedded documents are `embedded-documents.ts`'s job).
 * Every refusal is a DecodeError whose `where` is the byte offset of the offending token.
 */
import { DecodeError } from '../../errors.js';
import type { Element, Node, Opaque } from '../element.js';
import type { DecodeLimits } from '../limits.js';
import * as codePages from './code-pages.js';
import * as mbUint32 from './mb-uint32.js';
import type { MbRead } from './mb-uint32.js';
import { PUBLIC_ID_IN_STRING_TABLE } from './public-ids.js';
import type { PublicId } from './public-ids.js';
import * as textDecoding from './text-decoding.js';
import * as tokens from './tokens.js';

// Module-local copies: imported bindings cost a getter call per use under some loaders (tsx), on the hottest path.
const { Charset, Token, WbxmlVersion } = tokens;
const { FIRST_TAG_IDENTITY, HAS_ATTRIBUTES, HAS_CONTENT, TAG_IDENTITY } = tokens;
const { SWITCH_PAGE, END, ENTITY, STR_I, STR_T, LITERAL, OPAQUE, PI, LITERAL_C, LITERAL_A, LITERAL_AC } =
  Token;
const { EXT_I_0, EXT_I_1, EXT_I_2, EXT_T_0, EXT_T_1, EXT_T_2, EXT_0, EXT_1, EXT_2 } = Token;
const { CODE_PAGES } = codePages;
const { readMbUint32 } = mbUint32;
const { SHORT_STRING, asciiString, decodeUtf8 } = textDecoding;

/** A decoded WBXML document. */
export interface WbxmlDocument {
  /** Version byte: 0x00 = 1.0 … 0x03 = 1.3. */
  readonly version: number;
  /** Registered numeric public id, or the FPI string when the document named it through the string table. */
  readonly publicId: PublicId;
  /** IANA MIBenum as declared (0 = unknown, read as UTF-8). */
  readonly charset: number;
  readonly root: Element;
}

/** Mutable twin of Element while its content is being read. */
interface Building {
  name: string;
  ns: string;
  attributes?: Record<string, string>;
  children: Node[];
}

const CHARSET_NAMES: Readonly<Record<number, string>> = {
  4: 'ISO-8859-1',
  1000: 'UCS-2',
  1015: 'UTF-16',
  17: 'Shift_JIS',
};

/** Where a document sits: inside an outer message (embedded documents) or alone. */
export interface ParseContext {
  /** Offset of these bytes in the outer message, so errors point into the outer bytes. */
  readonly base?: number;
  /** Depth and element count the outer document already used, so limits hold across nesting. */
  readonly depth?: number;
  readonly elements?: number;
  /** When given, receives the offset of every OPAQUE (for errors in documents nested inside them). */
  readonly opaqueOffsets?: Map<Opaque, number>;
}

/** Parses one WBXML document; also returns the element count (outer documents' included). */
export function parseWbxml(
  bytes: Uint8Array,
  limits: DecodeLimits,
  context: ParseContext = {},
): { document: WbxmlDocument; elementCount: number } {
  const parser = new Parser(bytes, limits, context);
  const document = parser.document();
  return { document, elementCount: parser.elementCount };
}

class Parser {
  private pos = 0;
  private readonly mb: MbRead = { value: 0, next: 0 };
  private strtblStart = 0;
  private strtblEnd = 0;
  private readonly strtblCache = new Map<number, string>();
  private tagPage = 0;
  private elements: number;
  private readonly base: number;
  private readonly depth0: number;
  private readonly opaqueOffsets: Map<Opaque, number> | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: DecodeLimits,
    context: ParseContext,
  ) {
    this.base = context.base ?? 0;
    this.depth0 = context.depth ?? 0;
    this.elements = context.elements ?? 0;
    this.opaqueOffsets = context.opaqueOffsets;
  }

  /** Elements read so far, including those counted by outer documents. */
  get elementCount(): number {
    return this.elements;
  }

  document(): WbxmlDocument {
    const { bytes, limits } = this;
    if (bytes.length > limits.maxBytes) {
      throw new DecodeError(
        'too-large',
        `WBXML message of ${bytes.length} bytes exceeds the limit of ${limits.maxBytes} bytes`,
        `byte ${this.base}`,
        { status: 413, httpStatus: 413 },
      );
    }
    const version = this.u8('version');
    if (version > WbxmlVersion.V1_3) {
      const hint = version === 0x3c || version === 0xef ? ' (this looks like XML, not WBXML)' : '';
      this.fail('wbxml-unsupported-version', `unsupported WBXML version byte 0x${hex(version)}${hint}`, 0);
    }
    let publicId: PublicId = this.mbInt();
    let fpiIndex = -1;
    if (publicId === PUBLIC_ID_IN_STRING_TABLE) fpiIndex = this.mbInt();
    // WBXML 1.0 has no charset field (wbxml.md §1 lists it from 1.1 on).
    const charset = version === WbxmlVersion.V1_0 ? Charset.UNKNOWN : this.mbInt();
    this.checkCharset(charset);
    const strtblAt = this.pos;
    const strtblLength = this.mbInt();
    if (strtblLength > bytes.length - this.pos) {
      this.fail(
        'wbxml-truncated',
        `string table of ${strtblLength} bytes is longer than the ${bytes.length - this.pos} bytes left`,
        strtblAt,
      );
    }
    this.strtblStart = this.pos;
    this.strtblEnd = this.pos + strtblLength;
    this.pos = this.strtblEnd;
    if (fpiIndex >= 0) publicId = this.tableString(fpiIndex, strtblAt);
    const root = this.body();
    return { version, publicId, charset, root };
  }

  private checkCharset(charset: number): void {
    if (charset === Charset.UTF_8 || charset === Charset.UNKNOWN || charset === Charset.US_ASCII) return;
    const name = CHARSET_NAMES[charset];
    this.fail(
      'wbxml-unsupported-charset',
      `unsupported WBXML charset MIBenum ${charset}${name === undefined ? '' : ` (${name})`}: only UTF-8 (106) is accepted`,
      this.pos - 1,
    );
  }

  /** body = *pi element *pi (wbxml.md §1). */
  private body(): Element {
    const { bytes, limits } = this;
    const stack: Building[] = [];
    let root: Building | undefined;
    const len = bytes.length;
    const depthLimit = limits.maxDepth - this.depth0;

    while (root === undefined) {
      if (this.pos >= len) {
        const what =
          stack.length === 0 ? 'before the root element' : `inside <${stack[stack.length - 1]!.name}>`;
        this.fail('wbxml-truncated', `WBXML input ends ${what}`, this.pos);
      }
      const at = this.pos;
      const b = bytes[this.pos++]!;
      const top = stack.length === 0 ? undefined : stack[stack.length - 1]!;
      switch (b) {
        case SWITCH_PAGE:
          // Legal anywhere, also just before END; it stays in effect until the next switch (wbxml.md §10).
          this.tagPage = this.u8('code page');
          continue;
        case END:
          if (top === undefined) this.fail('wbxml-unexpected-end', 'END token without an open element', at);
          stack.pop();
          if (stack.length === 0) root = top;
          continue;
        case STR_I:
        case STR_T:
        case ENTITY: {
          if (top === undefined) this.fail('wbxml-unexpected-content', 'text outside the root element', at);
          const text = b === STR_I ? this.inlineString() : b === STR_T ? this.tableRef() : this.entity();
          if (text.length === 0) continue;
          const kids = top.children;
          const last = kids.length - 1;
          const prev = kids[last];
          if (typeof prev === 'string') kids[last] = prev + text;
          else kids.push(text);
          continue;
        }
        case OPAQUE: {
          if (top === undefined)
            this.fail('wbxml-unexpected-content', 'OPAQUE data outside the root element', at);
          const n = this.mbInt();
          if (n > len - this.pos) {
            this.fail(
              'wbxml-truncated',
              `OPAQUE of ${n} bytes is longer than the ${len - this.pos} bytes left`,
              at,
            );
          }
          // A copy, so the tree never aliases (or pins) the caller's buffer.
          const opaque: Opaque = { opaque: bytes.slice(this.pos, this.pos + n) };
          this.opaqueOffsets?.set(opaque, this.base + this.pos);
          top.children.push(opaque);
          this.pos += n;
          continue;
        }
        case PI:
          this.attributes(at, true);
          continue;
        case EXT_I_0:
        case EXT_I_1:
        case EXT_I_2:
        case EXT_T_0:
        case EXT_T_1:
        case EXT_T_2:
        case EXT_0:
        case EXT_1:
        case EXT_2:
          this.fail(
            'wbxml-unsupported-extension',
            `WBXML extension token 0x${hex(b)} has no meaning in SyncML`,
            at,
          );
      }

      // A tag: coded (identity ≥ 0x05 on the current page) or literal (name in the string table).
      let name: string;
      let ns: string;
      const identity = b & TAG_IDENTITY;
      const codePage = CODE_PAGES[this.tagPage];
      if (identity === LITERAL) {
        name = this.tableRef();
        if (codePage === undefined) this.unknownPage(at);
        ns = codePage.ns;
      } else {
        if (codePage === undefined) this.unknownPage(at);
        const known = identity >= FIRST_TAG_IDENTITY ? codePage.names[identity] : undefined;
        if (known === undefined) {
          this.fail('wbxml-unknown-token', `unknown tag token 0x${hex(b)} on code page ${this.tagPage}`, at);
        }
        name = known;
        ns = codePage.ns;
      }
      if (stack.length + 1 > depthLimit) {
        this.fail('too-deep', `<${name}> nests deeper than the limit of ${limits.maxDepth} elements`, at);
      }
      if (++this.elements > limits.maxElements) {
        this.fail('too-many-elements', `more than the limit of ${limits.maxElements} elements`, at);
      }
      const el: Building = { name, ns, children: [] };
      if ((b & HAS_ATTRIBUTES) !== 0) {
        const attributes = this.attributes(at, false);
        if (attributes !== undefined) el.attributes = attributes;
      }
      if (top !== undefined) top.children.push(el);
      if ((b & HAS_CONTENT) !== 0) stack.push(el);
      else if (top === undefined) root = el;
    }

    this.trailer();
    return root;
  }

  /** After the root: only PIs may follow (wbxml.md §1), then the input must end. */
  private trailer(): void {
    const { bytes } = this;
    while (this.pos < bytes.length) {
      const at = this.pos;
      const b = bytes[this.pos++]!;
      if (b === PI) this.attributes(at, true);
      else if (b === SWITCH_PAGE) this.u8('code page');
      else this.fail('wbxml-trailing-bytes', `unexpected token 0x${hex(b)} after the root element`, at);
    }
  }

  /**
   * An attribute list (after a tag with 0x80) or a PI, up to its END. Attributes named in the string table
   * (LITERAL) are kept; coded attributes have no table in SyncML, so they are skipped with their values.
   * Namespace declarations are dropped: in WBXML the code page is the namespace.
   */
  private attributes(at: number, discard: boolean): Record<string, string> | undefined {
    const { bytes } = this;
    let attrs: Record<string, string> | undefined;
    let name: string | undefined;
    let value = '';
    let open = false;
    const flush = (): void => {
      if (open && name !== undefined && !discard && name !== 'xmlns' && !name.startsWith('xmlns:')) {
        attrs ??= {};
        attrs[name] = value;
      }
    };
    while (true) {
      if (this.pos >= bytes.length)
        this.fail('wbxml-truncated', 'WBXML input ends inside an attribute list', at);
      const tokenAt = this.pos;
      const b = bytes[this.pos++]!;
      switch (b) {
        case SWITCH_PAGE:
          this.u8('attribute code page'); // attribute pages are separate from tag pages; none is defined here
          continue;
        case END:
          flush();
          return attrs;
        case LITERAL:
          flush();
          name = this.tableRef();
          value = '';
          open = true;
          continue;
        case STR_I:
        case STR_T:
        case ENTITY: {
          const text = b === STR_I ? this.inlineString() : b === STR_T ? this.tableRef() : this.entity();
          if (!open)
            this.fail('wbxml-unexpected-content', 'attribute value without an attribute name', tokenAt);
          value += text;
          continue;
        }
        case OPAQUE: {
          const n = this.mbInt();
          if (n > bytes.length - this.pos)
            this.fail('wbxml-truncated', 'OPAQUE attribute value runs past the end', tokenAt);
          this.pos += n;
          continue;
        }
        case EXT_I_0:
        case EXT_I_1:
        case EXT_I_2:
        case EXT_T_0:
        case EXT_T_1:
        case EXT_T_2:
        case EXT_0:
        case EXT_1:
        case EXT_2:
        case PI:
        case LITERAL_C:
        case LITERAL_A:
        case LITERAL_AC:
          this.fail('wbxml-unknown-token', `token 0x${hex(b)} is not allowed in an attribute list`, tokenAt);
      }
      if (b < 0x80) {
        // ATTRSTART from a table we do not have: skip the attribute and the values that follow it.
        flush();
        name = undefined;
        value = '';
        open = true;
      }
      // ATTRVALUE (≥ 0x80) from a table we do not have: skipped.
    }
  }

  private inlineString(): string {
    const { bytes } = this;
    const start = this.pos;
    // Most strings are short ASCII: find the NUL and check for ASCII in one pass, then build without TextDecoder.
    const shortEnd = Math.min(start + SHORT_STRING, bytes.length);
    for (let i = start; i < shortEnd; i++) {
      const c = bytes[i]!;
      if (c === 0) {
        this.pos = i + 1;
        return asciiString(bytes, start, i);
      }
      if (c >= 0x80) break;
    }
    const nul = bytes.indexOf(0, start);
    if (nul < 0) this.fail('wbxml-truncated', 'inline string (STR_I) has no terminating NUL', start - 1);
    this.pos = nul + 1;
    return decodeUtf8(bytes, start, nul, this.base + start);
  }

  private tableRef(): string {
    const at = this.pos - 1;
    return this.tableString(this.mbInt(), at);
  }

  /** The string at `offset` in the string table: up to its NUL, or to the table's end (RTK writes the FPI so). */
  private tableString(offset: number, at: number): string {
    const cached = this.strtblCache.get(offset);
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
    this.strtblCache.set(offset, text);
    return text;
  }

  private entity(): string {
    const at = this.pos - 1;
    const cp = this.mbInt();
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) {
      this.fail('wbxml-bad-entity', `ENTITY ${cp} is not a Unicode scalar value`, at);
    }
    return String.fromCodePoint(cp);
  }

  private mbInt(): number {
    readMbUint32(this.bytes, this.pos, this.mb, this.base);
    this.pos = this.mb.next;
    return this.mb.value;
  }

  private u8(what: string): number {
    if (this.pos >= this.bytes.length)
      this.fail('wbxml-truncated', `WBXML input ends before the ${what}`, this.pos);
    return this.bytes[this.pos++]!;
  }

  private unknownPage(at: number): never {
    this.fail(
      'wbxml-unknown-code-page',
      `tag on code page ${this.tagPage}, which SyncML DM does not define`,
      at,
    );
  }

  private fail(code: string, message: string, at: number): never {
    throw new DecodeError(code, message, `byte ${this.base + at}`);
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
