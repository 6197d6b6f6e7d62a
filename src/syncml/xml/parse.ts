/**
 * A strict, non-validating XML 1.0 + Namespaces parser producing the namespace-resolved Element tree.
 * Works on char codes of one decoded string with an explicit stack. Skips a DOCTYPE that only names an external
 * DTD (never fetched), refuses any internal subset and every entity declaration (no expansion ever), input over
 * the limits, malformed markup and mismatched tags, each with a DecodeError located at line:column. Comments and
 * processing instructions are skipped.
 *
 * Children of all open elements are collected in one flat array, and an element object is built when its end tag
 * is read: each children array is then allocated once at its exact size, and the records of open elements are
 * reused from one element to the next at the same depth.
 */
import type { Element, Node } from '../element.js';
import type { DecodeLimits } from '../limits.js';
import { resolveLimits } from '../limits.js';
import { isNameChar } from './chars.js';
import { decodeEntities } from './entities.js';
import { epilog, prolog } from './prolog.js';
import { sourceText } from './source-text.js';
import { StartTagReader } from './start-tag.js';

/** An element whose end tag is still to come. One record per depth, reused by the next element there. */
interface OpenElement {
  qname: string;
  name: string;
  ns: string;
  attributes: Record<string, string> | undefined;
  /** The default namespace its content inherits. */
  defaultNs: string;
  /** Prefixes it declared, popped from the bindings when it closes. */
  declared: string[] | undefined;
  /** Where its children start in `Parser.nodes`. */
  base: number;
}

/** Parses a whole document into its root Element (bytes must be UTF-8; a string is taken as already decoded). */
export function parseXml(input: Uint8Array | string, limits?: Partial<DecodeLimits>): Element {
  return parseWithLimits(input, resolveLimits(limits));
}

/** parseXml for a caller that has resolved the limits already. */
export function parseWithLimits(input: Uint8Array | string, limits: DecodeLimits): Element {
  const { text, nul } = sourceText(input, limits.maxBytes);
  return new Parser(text, nul, limits).parse();
}

function element(
  name: string,
  ns: string,
  attributes: Record<string, string> | undefined,
  children: Node[],
): Element {
  return attributes === undefined ? { name, ns, children } : { name, ns, children, attributes };
}

/** Offset of `search` in `src` from `from`, or src.length when there is none. */
function nextIndex(src: string, search: string, from: number): number {
  const at = src.indexOf(search, from);
  return at === -1 ? src.length : at;
}

class Parser extends StartTagReader {
  private elements = 0;
  private depth = 0;
  private readonly open: OpenElement[] = [];
  /** The children read so far of every open element, outermost first: nodes[open[d].base, top). */
  private readonly nodes: Node[] = [];
  private top = 0;
  /**
   * The next `&` and `]]>` at or after the last text read (src.length when there is none). Each occurrence is
   * searched for once, instead of every text node being searched twice.
   */
  private nextAmp = -1;
  private nextCdataEnd = -1;

  constructor(
    src: string,
    nul: boolean,
    private readonly limits: DecodeLimits,
  ) {
    super(src, nul);
  }

  parse(): Element {
    prolog(this, this.src);
    const root = this.content();
    epilog(this, this.src);
    return root;
  }

  /** Parses the root element and everything inside it, iteratively. */
  private content(): Element {
    const src = this.src;
    this.openTag('');
    while (this.depth > 0) {
      const parent = this.open[this.depth - 1]!;
      // Compact XML (what SyncML peers send) has the next tag right here: no search needed.
      const lt = src.charCodeAt(this.pos) === 0x3c ? this.pos : src.indexOf('<', this.pos);
      if (lt === -1)
        this.fail('xml-malformed', `unexpected end of input: <${parent.qname}> is not closed`, src.length);
      if (lt > this.pos) this.text(parent, lt);
      this.pos = lt;
      const c1 = src.charCodeAt(lt + 1);
      if (c1 === 0x2f /* / */) {
        this.closeTag(parent);
      } else if (c1 === 0x21 /* ! */) {
        if (src.startsWith('<![CDATA[', lt)) this.cdata(parent);
        else if (src.startsWith('<!--', lt)) this.comment();
        else this.declaration();
      } else if (c1 === 0x3f /* ? */) {
        this.processingInstruction();
      } else {
        this.openTag(parent.defaultNs);
      }
    }
    return this.nodes[0] as Element;
  }

  /** Adjacent text, CDATA and references (comments and PIs between them included) make one string node. */
  private appendText(parent: OpenElement, text: string): void {
    const last = this.top - 1;
    if (last >= parent.base) {
      const previous = this.nodes[last];
      if (typeof previous === 'string') {
        this.nodes[last] = previous + text;
        return;
      }
    }
    this.nodes[this.top++] = text;
  }

  private text(parent: OpenElement, end: number): void {
    const src = this.src;
    const start = this.pos;
    // `]]>` has no `<`, so an occurrence starting before `end` (the next `<`) lies wholly in this text.
    if (this.nextCdataEnd < start) this.nextCdataEnd = nextIndex(src, ']]>', start);
    if (this.nextCdataEnd < end)
      this.fail('xml-malformed', '"]]>" is not allowed in text', this.nextCdataEnd);
    let text = src.slice(start, end);
    if (this.nextAmp < start) this.nextAmp = nextIndex(src, '&', start);
    if (this.nextAmp < end) {
      const decoded = decodeEntities(text);
      if (typeof decoded !== 'string') this.fail(decoded.code, decoded.message, start + decoded.offset);
      text = decoded;
    }
    this.appendText(parent, this.characters(text));
  }

  private cdata(parent: OpenElement): void {
    const start = this.pos + 9;
    const end = this.src.indexOf(']]>', start);
    if (end === -1) this.fail('xml-malformed', 'unterminated CDATA section');
    this.appendText(parent, this.characters(this.src.slice(start, end)));
    this.pos = end + 3;
  }

  private closeTag(open: OpenElement): void {
    const src = this.src;
    const start = this.pos;
    const nameAt = start + 2;
    const qname = open.qname;
    const after = src.charCodeAt(nameAt + qname.length);
    // A short slice compared with === (memcmp) is cheaper here than startsWith or a charCodeAt loop.
    if (src.slice(nameAt, nameAt + qname.length) !== qname || isNameChar(after) || after === 0x3a) {
      this.pos = nameAt;
      const found = this.name();
      this.fail('xml-mismatched-tag', `</${found}> does not close <${qname}>`, start);
    }
    this.pos = nameAt + qname.length;
    if (after !== 0x3e /* > */) {
      this.skipSpace();
      if (src.charCodeAt(this.pos) !== 0x3e) this.fail('xml-malformed', `expected ">" to end </${qname}>`);
    }
    this.pos++;
    const nodes = this.nodes;
    const base = open.base;
    const count = this.top - base;
    const children = count === 0 ? [] : count === 1 ? [nodes[base]!] : nodes.slice(base, this.top);
    nodes[base] = element(open.name, open.ns, open.attributes, children);
    this.top = base + 1;
    this.depth--;
    if (open.declared !== undefined) this.namespaces.undeclare(open.declared);
  }

  /** At `<name`: reads the start tag and resolves its namespaces; an empty tag (`/>`) is complete at once. */
  private openTag(parentDefaultNs: string): void {
    const src = this.src;
    const tagStart = this.pos;
    this.pos++;
    if (++this.elements > this.limits.maxElements) {
      this.fail('too-many-elements', `more than ${this.limits.maxElements} elements`, tagStart);
    }
    if (this.depth >= this.limits.maxDepth) {
      this.fail('too-deep', `elements nested deeper than ${this.limits.maxDepth}`, tagStart);
    }
    const qname = this.name();
    const colon = this.nameColon;
    let empty = false;
    let defaultNs = parentDefaultNs;
    let declared: string[] | undefined;
    let plain = 0;
    const next = src.charCodeAt(this.pos);
    const known = next === 0x20 ? this.soleKnownDefaultNamespace() : undefined;
    if (next === 0x3e /* > */) this.pos++;
    else if (next === 0x2f /* / */ && src.charCodeAt(this.pos + 1) === 0x3e) {
      this.pos += 2;
      empty = true;
    } else if (known !== undefined) {
      defaultNs = known;
      empty = this.emptyTag;
    } else {
      empty = this.readAttributes(qname);
      for (let i = 0; i < this.attrCount; i++) {
        const name = this.attrNames[i]!;
        const value = this.attrValues[i]!;
        if (name === 'xmlns') defaultNs = this.namespaces.intern(value);
        else if (name.startsWith('xmlns:')) (declared ??= []).push(this.declareNamespace(i));
        else plain++;
      }
    }
    let name = qname;
    let ns = defaultNs;
    if (colon !== -1) {
      name = qname.slice(colon + 1);
      ns = this.resolvePrefix(qname, colon, tagStart);
    }
    const attributes = plain === 0 ? undefined : this.plainAttributes(tagStart);
    if (empty) {
      this.nodes[this.top++] = element(name, ns, attributes, []);
      if (declared !== undefined) this.namespaces.undeclare(declared);
      return;
    }
    const open = this.open[this.depth];
    if (open === undefined) {
      this.open.push({ qname, name, ns, attributes, defaultNs, declared, base: this.top });
    } else {
      open.qname = qname;
      open.name = name;
      open.ns = ns;
      open.attributes = attributes;
      open.defaultNs = defaultNs;
      open.declared = declared;
      open.base = this.top;
    }
    this.depth++;
  }
}
