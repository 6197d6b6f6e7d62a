/**
 * WBXML bytes → namespace-resolved Element tree (wbxml.md §1–§2). Reads WBXML 1.0–1.3 with the SyncML DM code
 * pages; knows nothing about SyncML semantics (embedded documents are `embedded-documents.ts`'s job).
 * This file reads the header (version, public id, charset, string table); `body.ts` reads the elements,
 * `cursor.ts` the tokens' operands. Every refusal is a DecodeError whose `where` is the byte offset of the
 * offending token.
 */
import { DecodeError } from '../../errors.js';
import type { Element, Opaque } from '../element.js';
import type { DecodeLimits } from '../limits.js';
import { BodyReader } from './body.js';
import { hex } from './cursor.js';
import { PUBLIC_ID_IN_STRING_TABLE } from './public-ids.js';
import type { PublicId } from './public-ids.js';
import { Charset, WbxmlVersion } from './tokens.js';

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
  const reader = new DocumentReader(
    bytes,
    context.base ?? 0,
    limits,
    context.depth ?? 0,
    context.elements ?? 0,
    context.opaqueOffsets,
  );
  const document = reader.document(limits);
  return { document, elementCount: reader.elementCount };
}

class DocumentReader extends BodyReader {
  /** Elements read so far, including those counted by outer documents. */
  get elementCount(): number {
    return this.elements;
  }

  document(limits: DecodeLimits): WbxmlDocument {
    const bytes = this.bytes;
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
}
