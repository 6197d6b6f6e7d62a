/**
 * The body of a WBXML document → Element tree (wbxml.md §1–§2): body = *pi element *pi.
 *
 * Like the XML parser, children of all open elements are collected in one flat array and an element is built at
 * its END, so each children array is allocated once at its exact size. The current code page's names and
 * namespace are kept at hand, so a coded tag costs one array read: no per-element namespace work.
 */
import type { Element, Node, Opaque } from '../element.js';
import type { DecodeLimits } from '../limits.js';
import { readAttributes } from './attributes.js';
import * as codePages from './code-pages.js';
import { WbxmlCursor, hex } from './cursor.js';
import * as tokens from './tokens.js';

// Module-local copies: imported bindings cost a getter call per use under some loaders (tsx), on the hottest path.
const { Token, FIRST_TAG_IDENTITY, HAS_ATTRIBUTES, HAS_CONTENT, TAG_IDENTITY } = tokens;
const { SWITCH_PAGE, END, ENTITY, STR_I, STR_T, LITERAL, OPAQUE, PI } = Token;
const { CODE_PAGES } = codePages;

function element(
  name: string,
  ns: string,
  attributes: Record<string, string> | undefined,
  children: Node[],
): Element {
  // The same two shapes the XML parser builds, so the shared mapping layer sees one kind of object.
  return attributes === undefined ? { name, ns, children } : { name, ns, children, attributes };
}

export class BodyReader extends WbxmlCursor {
  /** The tag code page in effect (SWITCH_PAGE changes it until the next switch, wbxml.md §10). */
  private tagPage = 0;
  protected elements: number;

  constructor(
    bytes: Uint8Array,
    base: number,
    private readonly limits: DecodeLimits,
    /** Depth the outer document already used, so the depth limit holds across nesting. */
    private readonly depth0: number,
    elements: number,
    private readonly opaqueOffsets: Map<Opaque, number> | undefined,
  ) {
    super(bytes, base);
    this.elements = elements;
  }

  /** Reads from the cursor to the end of the input: PIs, the root element, PIs. */
  body(): Element {
    const bytes = this.bytes;
    const len = bytes.length;
    const limits = this.limits;
    const depthLimit = limits.maxDepth - this.depth0;
    const maxElements = limits.maxElements;
    /** Children read so far of every open element, outermost first: nodes[openBase[d], top). */
    const nodes: Node[] = [];
    let top = 0;
    const openName: string[] = [];
    const openNs: string[] = [];
    const openAttributes: (Record<string, string> | undefined)[] = [];
    const openBase: number[] = [];
    let depth = 0;
    let page = CODE_PAGES[this.tagPage];
    let root: Element | undefined;

    while (root === undefined) {
      const at = this.pos;
      if (at >= len) {
        const what = depth === 0 ? 'before the root element' : `inside <${openName[depth - 1]!}>`;
        this.fail('wbxml-truncated', `WBXML input ends ${what}`, at);
      }
      const b = bytes[at]!;
      this.pos = at + 1;
      const identity = b & TAG_IDENTITY;
      let name: string;
      if (identity >= FIRST_TAG_IDENTITY) {
        // A coded tag. Safe to test first: every token with identity 0x00–0x04 is a global token (wbxml.md §2).
        if (page === undefined) this.unknownPage(at);
        const known = page.names[identity];
        if (known === undefined) {
          this.fail('wbxml-unknown-token', `unknown tag token 0x${hex(b)} on code page ${this.tagPage}`, at);
        }
        name = known;
      } else if (identity === LITERAL) {
        // LITERAL, LITERAL_A, LITERAL_C, LITERAL_AC: a tag named in the string table.
        name = this.tableRef();
        if (page === undefined) this.unknownPage(at);
      } else {
        switch (b) {
          case SWITCH_PAGE:
            // Legal anywhere, also just before END.
            this.tagPage = this.u8('code page');
            page = CODE_PAGES[this.tagPage];
            continue;
          case END: {
            if (depth === 0) this.fail('wbxml-unexpected-end', 'END token without an open element', at);
            depth--;
            const base = openBase[depth]!;
            const count = top - base;
            const children = count === 0 ? [] : count === 1 ? [nodes[base]!] : nodes.slice(base, top);
            const el = element(openName[depth]!, openNs[depth]!, openAttributes[depth], children);
            if (depth === 0) root = el;
            nodes[base] = el;
            top = base + 1;
            continue;
          }
          case STR_I:
          case STR_T:
          case ENTITY: {
            if (depth === 0) this.fail('wbxml-unexpected-content', 'text outside the root element', at);
            const text = b === STR_I ? this.inlineString() : b === STR_T ? this.tableRef() : this.entity();
            if (text.length === 0) continue;
            const last = top - 1;
            const previous = last >= openBase[depth - 1]! ? nodes[last] : undefined;
            if (typeof previous === 'string') nodes[last] = previous + text;
            else nodes[top++] = text;
            continue;
          }
          case OPAQUE:
            if (depth === 0)
              this.fail('wbxml-unexpected-content', 'OPAQUE data outside the root element', at);
            nodes[top++] = this.opaque(at);
            continue;
          case PI:
            readAttributes(this, at, true);
            continue;
          default:
            this.fail(
              'wbxml-unsupported-extension',
              `WBXML extension token 0x${hex(b)} has no meaning in SyncML`,
              at,
            );
        }
      }

      if (depth + 1 > depthLimit) {
        this.fail('too-deep', `<${name}> nests deeper than the limit of ${limits.maxDepth} elements`, at);
      }
      if (++this.elements > maxElements) {
        this.fail('too-many-elements', `more than the limit of ${maxElements} elements`, at);
      }
      const attributes = (b & HAS_ATTRIBUTES) !== 0 ? readAttributes(this, at, false) : undefined;
      if ((b & HAS_CONTENT) !== 0) {
        openName[depth] = name;
        openNs[depth] = page.ns;
        openAttributes[depth] = attributes;
        openBase[depth] = top;
        depth++;
      } else {
        const el = element(name, page.ns, attributes, []);
        if (depth === 0) root = el;
        else nodes[top++] = el;
      }
    }

    this.trailer();
    return root;
  }

  /** OPAQUE data (the cursor past the token at `at`), copied so the tree never aliases the caller's buffer. */
  private opaque(at: number): Opaque {
    const len = this.bytes.length;
    const n = this.mbInt();
    if (n > len - this.pos) {
      this.fail(
        'wbxml-truncated',
        `OPAQUE of ${n} bytes is longer than the ${len - this.pos} bytes left`,
        at,
      );
    }
    const opaque: Opaque = { opaque: this.bytes.slice(this.pos, this.pos + n) };
    this.opaqueOffsets?.set(opaque, this.base + this.pos);
    this.pos += n;
    return opaque;
  }

  /** After the root: only PIs may follow (wbxml.md §1), then the input must end. */
  private trailer(): void {
    const bytes = this.bytes;
    while (this.pos < bytes.length) {
      const at = this.pos;
      const b = bytes[this.pos++]!;
      if (b === PI) readAttributes(this, at, true);
      else if (b === SWITCH_PAGE) this.u8('code page');
      else this.fail('wbxml-trailing-bytes', `unexpected token 0x${hex(b)} after the root element`, at);
    }
  }

  private unknownPage(at: number): never {
    this.fail(
      'wbxml-unknown-code-page',
      `tag on code page ${this.tagPage}, which SyncML DM does not define`,
      at,
    );
  }
}
