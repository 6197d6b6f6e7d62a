/**
 * A strict, non-validating XML 1.0 + Namespaces parser producing the namespace-resolved Element tree.
 * Works on char codes of one decoded string with an explicit stack. Skips a DOCTYPE that only names an external
 * DTD (never fetched), refuses any internal subset and every entity declaration (no expansion ever), input over the limits, malformed markup and mismatched tags, each with a
 * DecodeError located at line:column. Comments and processing instructions are skipped.
 */
import { DecodeError } from '../../errors.js';
import type { Element, Node } from '../element.js';
import type { DecodeLimits } from '../limits.js';
import { resolveLimits } from '../limits.js';
import { DMDDF_NAMESPACE, METINF_NAMESPACE, SYNCML_NAMESPACE } from '../model.js';
import { isNameChar, isNameStart, isSpace } from './chars.js';
import { decodeEntities } from './entities.js';
import { lineColumn, sourceText } from './source-text.js';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const KNOWN_NAMESPACES = [SYNCML_NAMESPACE, METINF_NAMESPACE, DMDDF_NAMESPACE, '', XML_NS];

/** Duplicate-attribute checks switch from a linear scan to a Set past this many attributes. */
const ATTRIBUTE_SCAN_LIMIT = 16;

/** The common case, `<Name>`: no attribute arrays allocated. */
const NO_ATTRIBUTES = { names: [], values: [], offsets: [], empty: false } as const satisfies {
  names: readonly string[];
  values: readonly string[];
  offsets: readonly number[];
  empty: boolean;
};

interface MutableElement {
  name: string;
  ns: string;
  attributes?: Record<string, string>;
  children: Node[];
}

interface Frame {
  readonly qname: string;
  readonly el: MutableElement;
  readonly defaultNs: string;
  /** Prefixes this element declared, popped from the bindings when it closes. */
  readonly declared: string[] | undefined;
  text: string | undefined;
}

/** Parses a whole document into its root Element (bytes must be UTF-8; a string is taken as already decoded). */
export function parseXml(input: Uint8Array | string, limits?: Partial<DecodeLimits>): Element {
  const resolved = resolveLimits(limits);
  return new Parser(sourceText(input, resolved.maxBytes), resolved).parse();
}

class Parser {
  private pos = 0;
  private elements = 0;
  /**
   * Prefix → stack of URIs in scope (innermost last): O(1) lookups however many declarations a hostile
   * document stacks up, where a scope chain would be walked for every prefixed name.
   */
  private readonly bindings = new Map<string, string[]>([['xml', [XML_NS]]]);
  /**
   * One string instance per namespace URI, the well-known ones being the model's constants: namespace checks
   * downstream then compare pointers instead of characters (a message repeats `syncml:metinf` on every MetInf).
   */
  private readonly uris = new Map<string, string>(KNOWN_NAMESPACES.map((uri) => [uri, uri]));

  private intern(uri: string): string {
    const known = this.uris.get(uri);
    if (known !== undefined) return known;
    this.uris.set(uri, uri);
    return uri;
  }

  /**
   * Whether the document holds U+0000 at all. Real-client quirk: libdmclient ends `chr` and child-list Data with
   * a NUL (`b1/a2/a1\0`, test/fixtures/libdmclient-sessions/xml-basic-nul-in-data). XML 1.0 §2.2 forbids the
   * character; being liberal, we drop it from character data (text and CDATA), as the WBXML decoder drops the
   * trailing NULs of text Data, and still refuse it in markup (names, attribute values, comments, PIs).
   */
  private readonly nul: boolean;

  constructor(
    private readonly src: string,
    private readonly limits: DecodeLimits,
  ) {
    this.nul = src.indexOf('\0') !== -1;
  }

  /** Refuses U+0000 in markup between `start` and `end`. */
  private noNul(start: number, end: number): void {
    if (!this.nul) return;
    const at = this.src.indexOf('\0', start);
    if (at !== -1 && at < end)
      this.fail('xml-illegal-char', 'character U+0000 is not allowed in XML 1.0 markup', at);
  }

  /** Character data without the NULs a client may have put there (see `nul`). */
  private characters(text: string): string {
    return this.nul && text.indexOf('\0') !== -1 ? text.replaceAll('\0', '') : text;
  }

  private fail(code: string, message: string, at: number = this.pos): never {
    throw new DecodeError(code, message, lineColumn(this.src, at));
  }

  parse(): Element {
    this.prolog();
    const root = this.content();
    this.epilog();
    return root;
  }

  private skipSpace(): void {
    const src = this.src;
    while (isSpace(src.charCodeAt(this.pos))) this.pos++;
  }

  /** XMLDecl? Misc* (doctypedecl Misc*)? — the declaration only at the very start; an external-only DOCTYPE skipped. */
  private prolog(): void {
    const src = this.src;
    // XML 1.0 wants the declaration at offset 0; whitespace before it (a server's stray newline) is tolerated.
    this.skipSpace();
    if (src.startsWith('<?xml', this.pos) && isSpace(src.charCodeAt(this.pos + 5))) this.xmlDeclaration();
    let doctypeSeen = false;
    for (;;) {
      this.skipSpace();
      if (this.pos >= src.length) this.fail('xml-malformed', 'no root element');
      if (src.charCodeAt(this.pos) !== 0x3c) this.fail('xml-malformed', 'text before the root element');
      if (!doctypeSeen && src.startsWith('<!DOCTYPE', this.pos)) {
        this.externalDoctype();
        doctypeSeen = true;
        continue;
      }
      if (!this.misc()) return;
    }
  }

  /**
   * Real devices (and libwbxml's wbxml2xml) name the SyncML DTD: `<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML
   * 1.2//EN" "http://…">`. Such a DOCTYPE declares nothing, and it is skipped: the DTD is never fetched or read.
   * Anything with an internal subset (`[…]`, where entities would live) is refused.
   */
  private externalDoctype(): void {
    const src = this.src;
    const start = this.pos;
    let at = start + '<!DOCTYPE'.length;
    while (at < src.length) {
      const c = src.charCodeAt(at);
      if (c === 0x3e /* > */) {
        this.noNul(start, at);
        this.pos = at + 1;
        return;
      }
      if (c === 0x5b /* [ */)
        this.fail('xml-doctype', 'a DOCTYPE with an internal subset is not allowed', start);
      if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
        const close = src.indexOf(String.fromCharCode(c), at + 1);
        if (close === -1) break;
        at = close + 1;
        continue;
      }
      at++;
    }
    this.fail('xml-malformed', 'unterminated DOCTYPE', start);
  }

  /** After the root: only whitespace, comments and processing instructions. */
  private epilog(): void {
    const src = this.src;
    for (;;) {
      this.skipSpace();
      if (this.pos >= src.length) return;
      if (src.charCodeAt(this.pos) !== 0x3c || !this.misc()) {
        this.fail('xml-malformed', 'content after the root element');
      }
    }
  }

  /** At `<`: skips a comment or PI and returns true; refuses declarations; returns false for an element. */
  private misc(): boolean {
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

  private xmlDeclaration(): void {
    const start = this.pos;
    const end = this.src.indexOf('?>', start + 5);
    if (end === -1) this.fail('xml-malformed', 'unterminated XML declaration');
    this.noNul(start, end);
    const decl = this.src.slice(start + 5, end);
    if (!/^\s+version\s*=\s*(["'])1\.[0-9]+\1/.test(decl))
      this.fail('xml-malformed', 'XML declaration without version');
    const enc = /\sencoding\s*=\s*(["'])([^"']*)\1/.exec(decl);
    const name = enc?.[2]?.toLowerCase();
    if (
      name !== undefined &&
      name !== 'utf-8' &&
      name !== 'utf8' &&
      name !== 'us-ascii' &&
      name !== 'ascii'
    ) {
      this.fail(
        'xml-encoding',
        `encoding "${enc?.[2] ?? ''}" is not supported: SyncML DM XML must be UTF-8`,
        start,
      );
    }
    this.pos = end + 2;
  }

  private processingInstruction(): void {
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

  private comment(): void {
    const start = this.pos;
    const end = this.src.indexOf('--', start + 4);
    if (end === -1) this.fail('xml-malformed', 'unterminated comment');
    this.noNul(start, end);
    if (this.src.charCodeAt(end + 2) !== 0x3e) this.fail('xml-malformed', '"--" inside a comment', end);
    this.pos = end + 3;
  }

  /** `<!` that is neither a comment nor (in content) CDATA: a DTD construct, never accepted. */
  private declaration(): never {
    const src = this.src;
    if (src.startsWith('<!DOCTYPE', this.pos)) this.fail('xml-doctype', 'XML DOCTYPE is not allowed');
    if (src.startsWith('<!ENTITY', this.pos))
      this.fail('xml-entity', 'XML entity declarations are not allowed');
    return this.fail('xml-malformed', 'markup declarations are not allowed');
  }

  /** Parses the root element and everything inside it, iteratively. */
  private content(): Element {
    const src = this.src;
    const stack: Frame[] = [];
    const root = this.openTag(stack, '');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const lt = src.indexOf('<', this.pos);
      if (lt === -1)
        this.fail('xml-malformed', `unexpected end of input: <${frame.qname}> is not closed`, src.length);
      if (lt > this.pos) this.text(frame, lt);
      this.pos = lt;
      const c1 = src.charCodeAt(lt + 1);
      if (c1 === 0x2f /* / */) {
        this.closeTag(frame);
        stack.pop();
      } else if (c1 === 0x21 /* ! */) {
        if (src.startsWith('<![CDATA[', lt)) this.cdata(frame);
        else if (src.startsWith('<!--', lt)) this.comment();
        else this.declaration();
      } else if (c1 === 0x3f /* ? */) {
        this.processingInstruction();
      } else {
        if (frame.text !== undefined) {
          frame.el.children.push(frame.text);
          frame.text = undefined;
        }
        frame.el.children.push(this.openTag(stack, frame.defaultNs));
      }
    }
    return root;
  }

  private text(frame: Frame, end: number): void {
    const start = this.pos;
    let text = this.src.slice(start, end);
    const cdataEnd = text.indexOf(']]>');
    if (cdataEnd !== -1) this.fail('xml-malformed', '"]]>" is not allowed in text', start + cdataEnd);
    if (text.indexOf('&') !== -1) {
      const decoded = decodeEntities(text);
      if (typeof decoded !== 'string') this.fail(decoded.code, decoded.message, start + decoded.offset);
      text = decoded;
    }
    text = this.characters(text);
    frame.text = frame.text === undefined ? text : frame.text + text;
  }

  private cdata(frame: Frame): void {
    const start = this.pos + 9;
    const end = this.src.indexOf(']]>', start);
    if (end === -1) this.fail('xml-malformed', 'unterminated CDATA section');
    const text = this.characters(this.src.slice(start, end));
    frame.text = frame.text === undefined ? text : frame.text + text;
    this.pos = end + 3;
  }

  private closeTag(frame: Frame): void {
    const src = this.src;
    const start = this.pos;
    const nameAt = start + 2;
    const qname = frame.qname;
    const after = src.charCodeAt(nameAt + qname.length);
    if (!src.startsWith(qname, nameAt) || isNameChar(after) || after === 0x3a) {
      this.pos = nameAt;
      const found = this.name();
      this.fail('xml-mismatched-tag', `</${found}> does not close <${qname}>`, start);
    }
    this.pos = nameAt + qname.length;
    this.skipSpace();
    if (src.charCodeAt(this.pos) !== 0x3e) this.fail('xml-malformed', `expected ">" to end </${qname}>`);
    this.pos++;
    if (frame.text !== undefined) frame.el.children.push(frame.text);
    if (frame.declared !== undefined) this.undeclare(frame.declared);
  }

  private undeclare(prefixes: readonly string[]): void {
    for (const prefix of prefixes) this.bindings.get(prefix)!.pop();
  }

  /** A Name; throws when there is none at pos. */
  private name(): string {
    const src = this.src;
    const start = this.pos;
    const c = src.charCodeAt(start);
    if (!isNameStart(c) && c !== 0x3a) this.fail('xml-malformed', 'expected a name');
    let i = start + 1;
    while (i < src.length) {
      const d = src.charCodeAt(i);
      if (!isNameChar(d) && d !== 0x3a) break;
      i++;
    }
    this.pos = i;
    return src.slice(start, i);
  }

  /** At `<name`: reads the start tag, resolves namespaces, pushes a frame unless the tag is empty (`/>`). */
  private openTag(stack: Frame[], parentDefaultNs: string): MutableElement {
    const src = this.src;
    const tagStart = this.pos;
    this.pos++;
    if (++this.elements > this.limits.maxElements) {
      this.fail('too-many-elements', `more than ${this.limits.maxElements} elements`, tagStart);
    }
    if (stack.length >= this.limits.maxDepth) {
      this.fail('too-deep', `elements nested deeper than ${this.limits.maxDepth}`, tagStart);
    }
    const qname = this.name();
    const next = src.charCodeAt(this.pos);
    const { names, values, offsets, empty } =
      next === 0x3e /* > */ ? (this.pos++, NO_ATTRIBUTES) : this.attributes(qname);
    let defaultNs = parentDefaultNs;
    let declared: string[] | undefined;
    let plain: number[] | undefined;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = values[i]!;
      if (name === 'xmlns') defaultNs = this.intern(value);
      else if (name.startsWith('xmlns:')) {
        const prefix = name.slice(6);
        if (
          prefix === '' ||
          prefix.includes(':') ||
          value === '' ||
          prefix === 'xmlns' ||
          value === XMLNS_NS
        ) {
          this.fail('xml-namespace', `illegal namespace declaration ${name}="${value}"`, offsets[i]);
        }
        (declared ??= []).push(prefix);
        const uris = this.bindings.get(prefix);
        if (uris === undefined) this.bindings.set(prefix, [this.intern(value)]);
        else uris.push(this.intern(value));
      } else (plain ??= []).push(i);
    }
    const el: MutableElement = { name: qname, ns: defaultNs, children: [] };
    const colon = qname.indexOf(':');
    if (colon !== -1) {
      el.name = qname.slice(colon + 1);
      el.ns = this.resolvePrefix(qname, colon, tagStart);
    }
    if (plain !== undefined) {
      const attributes: Record<string, string> = {};
      for (const i of plain) {
        const name = names[i]!;
        const colonAt = name.indexOf(':');
        if (colonAt !== -1) this.resolvePrefix(name, colonAt, tagStart);
        // defineProperty: an attribute named __proto__ must stay data, not reach the prototype setter.
        Object.defineProperty(attributes, name, {
          value: values[i],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      el.attributes = attributes;
    }
    if (!empty) stack.push({ qname, el, defaultNs, declared, text: undefined });
    else if (declared !== undefined) this.undeclare(declared);
    return el;
  }

  /** The attribute list of a start tag, up to and including `>` or `/>`; duplicate names refused. */
  private attributes(qname: string): {
    names: string[];
    values: string[];
    offsets: number[];
    empty: boolean;
  } {
    const src = this.src;
    const names: string[] = [];
    const values: string[] = [];
    const offsets: number[] = [];
    let seen: Set<string> | undefined;
    for (;;) {
      const hadSpace = isSpace(src.charCodeAt(this.pos));
      this.skipSpace();
      const c = src.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        return { names, values, offsets, empty: false };
      }
      if (c === 0x2f /* / */ && src.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2;
        return { names, values, offsets, empty: true };
      }
      if (this.pos >= src.length) this.fail('xml-malformed', `unexpected end of input in <${qname}>`);
      if (!hadSpace) this.fail('xml-malformed', `expected whitespace, ">" or "/>" in <${qname}>`);
      const at = this.pos;
      const name = this.name();
      if (names.length >= ATTRIBUTE_SCAN_LIMIT) seen ??= new Set(names);
      if (seen === undefined ? names.includes(name) : seen.has(name)) {
        this.fail('xml-malformed', `duplicate attribute ${name}`, at);
      }
      seen?.add(name);
      names.push(name);
      values.push(this.attributeValue(name));
      offsets.push(at);
    }
  }

  private resolvePrefix(qname: string, colon: number, at: number): string {
    const prefix = qname.slice(0, colon);
    if (colon === 0 || colon === qname.length - 1 || qname.indexOf(':', colon + 1) !== -1) {
      this.fail('xml-namespace', `"${qname}" is not a qualified name`, at);
    }
    const uris = this.bindings.get(prefix);
    const uri = uris?.[uris.length - 1];
    if (uri === undefined) this.fail('xml-namespace', `namespace prefix "${prefix}" is not declared`, at);
    return uri;
  }

  /** `= "value"` with entities decoded and whitespace normalized (XML 1.0 §3.3.3). */
  private attributeValue(name: string): string {
    const src = this.src;
    this.skipSpace();
    if (src.charCodeAt(this.pos) !== 0x3d) this.fail('xml-malformed', `expected "=" after attribute ${name}`);
    this.pos++;
    this.skipSpace();
    const quote = src.charCodeAt(this.pos);
    if (quote !== 0x22 && quote !== 0x27)
      this.fail('xml-malformed', `attribute ${name} value must be quoted`);
    const start = this.pos + 1;
    const end = src.indexOf(quote === 0x22 ? '"' : "'", start);
    if (end === -1) this.fail('xml-malformed', `unterminated value of attribute ${name}`);
    this.noNul(start, end);
    let value = src.slice(start, end);
    const lt = value.indexOf('<');
    if (lt !== -1) this.fail('xml-malformed', `"<" in the value of attribute ${name}`, start + lt);
    if (value.indexOf('\n') !== -1 || value.indexOf('\t') !== -1) value = value.replace(/[\n\t]/g, ' ');
    if (value.indexOf('&') !== -1) {
      const decoded = decodeEntities(value);
      if (typeof decoded !== 'string') this.fail(decoded.code, decoded.message, start + decoded.offset);
      value = decoded;
    }
    this.pos = end + 1;
    return value;
  }
}
