/**
 * Reading and building DDF/TNDS documents at the element level. Reading accepts both the message model's
 * XmlElement (Data of kind xml) and the codecs' Element (strings, OPAQUE bytes), so one parser serves
 * XML, WBXML and embedded documents.
 */
import { DMDDF_NAMESPACE, type XmlContent, type XmlElement } from '../syncml/model.js';
import type { Element, Node } from '../syncml/element.js';
import { TreeError } from './tree-error.js';

/** The common shape of XmlElement and codec Element. */
export interface DocElement {
  readonly name: string;
  readonly children: readonly unknown[];
}

export function isDocElement(value: unknown): value is DocElement {
  return typeof value === 'object' && value !== null && 'name' in value && 'children' in value;
}

export function childElements(el: DocElement): DocElement[] {
  return el.children.filter(isDocElement);
}

export function child(el: DocElement, name: string): DocElement | undefined {
  return childElements(el).find((c) => c.name === name);
}

export function children(el: DocElement, name: string): DocElement[] {
  return childElements(el).filter((c) => c.name === name);
}

/** Character content (OPAQUE bytes read as UTF-8), untrimmed. */
export function textOf(el: DocElement): string {
  let out = '';
  for (const c of el.children) {
    if (typeof c === 'string') out += c;
    else if (typeof c === 'object' && c !== null && 'opaque' in c && c.opaque instanceof Uint8Array) {
      out += new TextDecoder().decode(c.opaque);
    }
  }
  return out;
}

export function childText(el: DocElement, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : textOf(c).trim();
}

/** Name of the single empty element inside `el` (`<DFFormat><chr/></DFFormat>` → `chr`). */
export function choiceOf(el: DocElement | undefined): string | undefined {
  return el === undefined ? undefined : childElements(el)[0]?.name;
}

export function invalidDoc(what: string, message: string): TreeError {
  return new TreeError(400, `bad-${what}`, `invalid ${what} document: ${message}`);
}

// ---- building (model XmlElement) ----

export function el(name: string, ...content: readonly (XmlContent | undefined)[]): XmlElement {
  return { name, children: content.filter((c): c is XmlContent => c !== undefined) };
}

/** `<Name/>`-style empty element. */
export function empty(name: string): XmlElement {
  return { name, children: [] };
}

export function withDdfNamespace(root: XmlElement): XmlElement {
  return { ...root, namespace: DMDDF_NAMESPACE };
}

/** Model XmlElement → codec Element (namespace inherited by children), for serializeXml / writeWbxml. */
export function toCodecElement(x: XmlElement, ns = x.namespace ?? DMDDF_NAMESPACE): Element {
  const kids: Node[] = x.children.map((c) =>
    typeof c === 'string' ? c : toCodecElement(c, c.namespace ?? ns),
  );
  return x.attributes === undefined
    ? { name: x.name, ns, children: kids }
    : { name: x.name, ns, attributes: x.attributes, children: kids };
}

/** Codec Element → model XmlElement (OPAQUE content becomes UTF-8 text). */
export function fromCodecElement(e: Element, parentNs?: string): XmlElement {
  const kids: XmlContent[] = e.children.map((c) =>
    typeof c === 'string'
      ? c
      : 'opaque' in c
        ? new TextDecoder().decode(c.opaque)
        : fromCodecElement(c, e.ns),
  );
  const base: XmlElement = { name: e.name, children: kids };
  const withNs = e.ns !== parentNs ? { ...base, namespace: e.ns } : base;
  return e.attributes === undefined ? withNs : { ...withNs, attributes: e.attributes };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Minimal serializer of a model XmlElement (for `xml`-format leaves arriving as embedded documents). */
export function xmlText(x: XmlElement, parentNs?: string): string {
  const attrs = Object.entries(x.attributes ?? {}).map(
    ([k, v]) => ` ${k}="${v.replace(/[&<>"]/g, (c) => ESCAPES[c]!)}"`,
  );
  if (x.namespace !== undefined && x.namespace !== parentNs) attrs.unshift(` xmlns="${x.namespace}"`);
  const inner = x.children
    .map((c) =>
      typeof c === 'string' ? c.replace(/[&<>]/g, (ch) => ESCAPES[ch]!) : xmlText(c, x.namespace ?? parentNs),
    )
    .join('');
  return inner === '' ? `<${x.name}${attrs.join('')}/>` : `<${x.name}${attrs.join('')}>${inner}</${x.name}>`;
}
