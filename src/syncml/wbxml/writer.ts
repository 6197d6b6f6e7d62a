/**
 * Element tree → WBXML bytes (wbxml.md §1–§2). Writes WBXML 1.2, UTF-8, coded tags from the SyncML DM code pages,
 * literal tags (name in the string table) for names a page lacks, STR_I text, OPAQUE for raw bytes, and a
 * SWITCH_PAGE only when the namespace's page differs from the current one. Knows nothing about SyncML semantics.
 */
import { EncodeError } from '../../errors.js';
import type { Element, Node } from '../element.js';
import { ByteSink } from './byte-sink.js';
import * as codePages from './code-pages.js';
import type { CodePage } from './code-pages.js';
import * as mbUint32 from './mb-uint32.js';
import {
  FPI_DMDDF_12,
  PUBLIC_ID_IN_STRING_TABLE,
  PUBLIC_ID_SYNCML_12,
  PUBLIC_ID_UNKNOWN,
} from './public-ids.js';
import type { PublicId } from './public-ids.js';
import * as tokens from './tokens.js';

// Module-local copies: imported bindings cost a getter call per use under some loaders (tsx), on the hottest path.
const { Charset, HAS_ATTRIBUTES, HAS_CONTENT, WbxmlVersion } = tokens;
const { SWITCH_PAGE, END, STR_I, STR_T, LITERAL, OPAQUE } = tokens.Token;
const { DMDDF_NS, SYNCML_NS, pageForNamespace } = codePages;
const { writeMbUint32 } = mbUint32;

export interface WbxmlWriteOptions {
  /**
   * Numeric public id, or an FPI written into the string table (public id 0). Default: 0x1201 for a SyncML root,
   * the DM DDF 1.2 FPI for a DDF/TNDS root (it has no registered number; libwbxml does the same), else unknown (1).
   */
  readonly publicId?: PublicId;
  /** Version byte, 0x00 (1.0) … 0x03 (1.3). Default 0x02, WBXML 1.2, as libdmclient and the RTK send. */
  readonly version?: number;
  /**
   * Put text that occurs more than once (and is at least 4 bytes long) in the string table and refer to it with
   * STR_T. Default false: it saves a few per cent on typical DM messages and costs an extra pass (see bench/codec).
   */
  readonly stringTable?: boolean;
}

/** Shortest text worth a string-table entry: a STR_T reference costs 2–3 bytes against STR_I's length + 2. */
const MIN_SHARED_TEXT = 4;

/** Default public id for a document whose root element is `root`. */
export function defaultPublicId(root: Element): PublicId {
  const page = pageForNamespace(root.ns);
  if (page?.ns === SYNCML_NS) return PUBLIC_ID_SYNCML_12;
  if (page?.ns === DMDDF_NS) return FPI_DMDDF_12;
  return PUBLIC_ID_UNKNOWN;
}

/** The body buffer kept between calls (allocating and zeroing 4 KB per small message showed in bench/codec). */
let spareBody: ByteSink | undefined;
const MAX_SPARE_BYTES = 256 * 1024;

/** Encodes `root` as a complete WBXML document. Throws EncodeError for trees WBXML cannot carry. */
export function serializeWbxml(root: Element, options: WbxmlWriteOptions = {}): Uint8Array {
  const version = options.version ?? WbxmlVersion.V1_2;
  if (!Number.isInteger(version) || version < WbxmlVersion.V1_0 || version > WbxmlVersion.V1_3) {
    throw new EncodeError('wbxml-bad-option', `WBXML version byte must be 0x00 … 0x03, got ${version}`);
  }
  const publicId = options.publicId ?? defaultPublicId(root);
  if (
    typeof publicId === 'number' &&
    (!Number.isInteger(publicId) || publicId < 1 || publicId > 0xffffffff)
  ) {
    throw new EncodeError('wbxml-bad-option', `numeric WBXML public id must be 1 … 2^32-1, got ${publicId}`);
  }
  // One body buffer serves every call (writes never nest: embedded documents are written beforehand).
  const body = spareBody ?? new ByteSink(4096);
  spareBody = undefined;
  try {
    body.clear();
    const w = new Writer(body);
    if (typeof publicId === 'string') w.tableIndex(publicId); // offset 0, referenced from the header
    if (options.stringTable === true) w.shareRepeatedText(root);
    w.element(root);
    return w.finish(version, publicId);
  } finally {
    if (body.capacity <= MAX_SPARE_BYTES) spareBody = body;
  }
}

class Writer {
  constructor(private readonly body: ByteSink) {}

  private table: ByteSink | undefined;
  private tableIndexes: Map<string, number> | undefined;
  /** Text written as STR_T: its string-table offset. */
  private shared: Map<string, number> | undefined;
  private page = 0;

  /** Adds every text that occurs twice or more to the string table (in order of first use). */
  shareRepeatedText(root: Element): void {
    const seen = new Map<string, boolean>();
    const shared = new Map<string, number>();
    const walk = (el: Element): void => {
      for (const node of el.children) {
        if (typeof node === 'string') {
          if (node.length < MIN_SHARED_TEXT) continue;
          const again = seen.get(node);
          if (again === undefined) seen.set(node, false);
          else if (!again) {
            seen.set(node, true);
            shared.set(node, this.tableIndex(node));
          }
        } else if ('name' in node) walk(node);
      }
    };
    walk(root);
    this.shared = shared;
  }

  element(el: Element): void {
    const cp = pageForNamespace(el.ns);
    if (cp === undefined) {
      throw new EncodeError(
        'wbxml-unknown-namespace',
        `<${el.name}> is in namespace ${JSON.stringify(el.ns)}, which has no WBXML code page in SyncML DM`,
      );
    }
    const body = this.body;
    if (cp.page !== this.page) {
      body.byte(SWITCH_PAGE);
      body.byte(cp.page);
      this.page = cp.page;
    }
    const children = el.children;
    const content = hasContent(children) ? HAS_CONTENT : 0;
    const attrNames = attributeNames(el);
    const attrs = attrNames.length > 0 ? HAS_ATTRIBUTES : 0;
    this.tag(cp, el.name, content | attrs);
    if (attrs !== 0) {
      for (const name of attrNames) {
        body.byte(LITERAL);
        writeMbUint32(body, this.tableIndex(name));
        const value = el.attributes![name]!;
        if (value.length > 0) {
          body.byte(STR_I);
          body.cstring(value);
        }
      }
      body.byte(END);
    }
    if (content === 0) return; // empty element: the bare token, no END (wbxml.md §2)
    for (const node of children) {
      if (typeof node === 'string') {
        if (node.length === 0) continue;
        const index = this.shared?.get(node);
        if (index !== undefined) {
          body.byte(STR_T);
          writeMbUint32(body, index);
          continue;
        }
        body.byte(STR_I);
        body.cstring(node);
      } else if ('opaque' in node) {
        body.byte(OPAQUE);
        writeMbUint32(body, node.opaque.length);
        body.bytes(node.opaque);
      } else {
        this.element(node);
      }
    }
    body.byte(END);
  }

  /** A coded tag when the page has the name, else a literal tag naming it through the string table. */
  private tag(cp: CodePage, name: string, flags: number): void {
    const identity = cp.tokens.get(name);
    if (identity !== undefined) {
      this.body.byte(identity | flags);
      return;
    }
    this.body.byte(LITERAL | flags);
    writeMbUint32(this.body, this.tableIndex(name));
  }

  /** Offset of `text` in the string table, adding it on first use. */
  tableIndex(text: string): number {
    this.table ??= new ByteSink(256);
    this.tableIndexes ??= new Map();
    let index = this.tableIndexes.get(text);
    if (index === undefined) {
      index = this.table.length;
      this.table.cstring(text);
      this.tableIndexes.set(text, index);
    }
    return index;
  }

  finish(version: number, publicId: PublicId): Uint8Array {
    const table = this.table?.view() ?? new Uint8Array(0);
    const head = new ByteSink(16);
    head.byte(version);
    if (typeof publicId === 'string') {
      head.byte(PUBLIC_ID_IN_STRING_TABLE);
      writeMbUint32(head, 0); // the FPI is the table's first entry
    } else {
      writeMbUint32(head, publicId);
    }
    if (version !== WbxmlVersion.V1_0) writeMbUint32(head, Charset.UTF_8); // 1.0 has no charset field
    writeMbUint32(head, table.length);
    const body = this.body.view();
    const out = new Uint8Array(head.length + table.length + body.length);
    out.set(head.view(), 0);
    out.set(table, head.length);
    out.set(body, head.length + table.length);
    return out;
  }
}

function hasContent(children: readonly Node[]): boolean {
  for (const node of children) {
    if (typeof node !== 'string' || node.length > 0) return true;
  }
  return false;
}

const NO_NAMES: readonly string[] = [];

/** Attribute names to write: namespace declarations are implied by the code page, so never written. */
function attributeNames(el: Element): readonly string[] {
  const attributes = el.attributes;
  if (attributes === undefined) return NO_NAMES;
  const names = Object.keys(attributes).filter((n) => n !== 'xmlns' && !n.startsWith('xmlns:'));
  return names.length === 0 ? NO_NAMES : names;
}
