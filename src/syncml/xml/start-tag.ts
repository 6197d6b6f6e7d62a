/**
 * The attribute list of a start tag and the namespace declarations in it: values unescaped and normalized
 * (XML 1.0 §3.3.3), duplicates refused, prefixes resolved against the declarations in scope.
 */
import { isSpace } from './chars.js';
import { Cursor } from './cursor.js';
import { decodeEntities } from './entities.js';
import { knownNamespace, Namespaces, XMLNS_NS } from './namespaces.js';

/** Duplicate-attribute checks switch from a linear scan to a Set past this many attributes. */
const ATTRIBUTE_SCAN_LIMIT = 16;

/** Whether `name` is one of names[0, count). */
function isAmong(name: string, names: readonly string[], count: number): boolean {
  for (let i = 0; i < count; i++) if (names[i] === name) return true;
  return false;
}

export class StartTagReader extends Cursor {
  protected readonly namespaces = new Namespaces();
  /** The attributes of the start tag last read: attrNames[0, attrCount) and so on, reused from tag to tag. */
  protected readonly attrNames: string[] = [];
  protected readonly attrValues: string[] = [];
  private readonly attrOffsets: number[] = [];
  protected attrCount = 0;
  /** Set by soleKnownDefaultNamespace: whether the tag it read ended with `/>`. */
  protected emptyTag = false;

  /**
   * ` xmlns="<well-known URI>">` (or `/>`), the start-tag tail SyncML repeats on every MetInf element, read at
   * once: returns the URI with pos past the tag. For anything else returns undefined, pos unchanged, and
   * readAttributes reads the list; on this exact text it would find the same single declaration.
   */
  protected soleKnownDefaultNamespace(): string | undefined {
    const src = this.src;
    const at = this.pos; // at a space
    if (!src.startsWith('xmlns=', at + 1)) return undefined;
    const quote = src.charCodeAt(at + 7);
    if (quote !== 0x22 && quote !== 0x27) return undefined;
    const end = src.indexOf(quote === 0x22 ? '"' : "'", at + 8);
    const uri = end === -1 ? undefined : knownNamespace(src, at + 8, end);
    if (uri === undefined) return undefined;
    const c = src.charCodeAt(end + 1);
    if (c === 0x3e /* > */) {
      this.pos = end + 2;
      this.emptyTag = false;
      return uri;
    }
    if (c === 0x2f /* / */ && src.charCodeAt(end + 2) === 0x3e) {
      this.pos = end + 3;
      this.emptyTag = true;
      return uri;
    }
    return undefined;
  }

  /** The attribute list, up to and including `>` or `/>` (true for `/>`); duplicate names refused. */
  protected readAttributes(qname: string): boolean {
    const src = this.src;
    const names = this.attrNames;
    let count = 0;
    let seen: Set<string> | undefined;
    for (;;) {
      const hadSpace = isSpace(src.charCodeAt(this.pos));
      this.skipSpace();
      const c = src.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        this.attrCount = count;
        return false;
      }
      if (c === 0x2f /* / */ && src.charCodeAt(this.pos + 1) === 0x3e) {
        this.pos += 2;
        this.attrCount = count;
        return true;
      }
      if (this.pos >= src.length) this.fail('xml-malformed', `unexpected end of input in <${qname}>`);
      if (!hadSpace) this.fail('xml-malformed', `expected whitespace, ">" or "/>" in <${qname}>`);
      const at = this.pos;
      const name = this.name();
      if (count >= ATTRIBUTE_SCAN_LIMIT) seen ??= new Set(names.slice(0, count));
      if (seen === undefined ? isAmong(name, names, count) : seen.has(name)) {
        this.fail('xml-malformed', `duplicate attribute ${name}`, at);
      }
      seen?.add(name);
      names[count] = name;
      this.attrValues[count] = this.attributeValue(name);
      this.attrOffsets[count] = at;
      count++;
    }
  }

  /** Binds the prefix of the `xmlns:prefix` attribute at `index`; returns the prefix. */
  protected declareNamespace(index: number): string {
    const name = this.attrNames[index]!;
    const value = this.attrValues[index]!;
    const prefix = name.slice(6);
    if (prefix === '' || prefix.includes(':') || value === '' || prefix === 'xmlns' || value === XMLNS_NS) {
      this.fail('xml-namespace', `illegal namespace declaration ${name}="${value}"`, this.attrOffsets[index]);
    }
    this.namespaces.declare(prefix, value);
    return prefix;
  }

  /** The attributes other than namespace declarations, their prefixes checked (errors located at `tagStart`). */
  protected plainAttributes(tagStart: number): Record<string, string> {
    const attributes: Record<string, string> = {};
    for (let i = 0; i < this.attrCount; i++) {
      const name = this.attrNames[i]!;
      if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
      const colonAt = name.indexOf(':');
      if (colonAt !== -1) this.resolvePrefix(name, colonAt, tagStart);
      // defineProperty: an attribute named __proto__ must stay data, not reach the prototype setter.
      Object.defineProperty(attributes, name, {
        value: this.attrValues[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return attributes;
  }

  protected resolvePrefix(qname: string, colon: number, at: number): string {
    const prefix = qname.slice(0, colon);
    if (colon === 0 || colon === qname.length - 1 || qname.indexOf(':', colon + 1) !== -1) {
      this.fail('xml-namespace', `"${qname}" is not a qualified name`, at);
    }
    const uri = this.namespaces.lookup(prefix);
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
    // The usual value, a SyncML namespace URI: it has no NUL, `<`, whitespace or reference to deal with.
    let value = knownNamespace(src, start, end);
    if (value !== undefined) {
      this.pos = end + 1;
      return value;
    }
    this.noNul(start, end);
    value = src.slice(start, end);
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
