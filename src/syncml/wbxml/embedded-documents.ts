/**
 * Embedded documents in SyncML Data (wbxml.md §8, DG-ENC-03). In XML a TNDS `MgmtTree` sits inline in `<Data>`
 * with Meta Type `application/vnd.syncml.dmtnds+xml`; in WBXML the same tree travels as OPAQUE holding a complete
 * nested WBXML document, with Type `…dmtnds+wbxml`. libwbxml converts between the two automatically, looking for
 * the Type in the Meta of the Data's parent (Item) or, failing that, its grandparent (the command). We do the same
 * in both directions, so an Element tree reads the same whichever encoding carried it.
 */
import { DecodeError, EncodeError } from '../../errors.js';
import * as constants from '../constants.js';
import type { Element, Node, Opaque } from '../element.js';
import * as elements from '../element.js';
import type { DecodeLimits } from '../limits.js';
import * as codePages from './code-pages.js';
import { parseWbxml } from './reader.js';
import { serializeWbxml } from './writer.js';

/** Where each OPAQUE started in the outer bytes, so errors in a nested document point into the message. */
export type OpaqueOffsets = ReadonlyMap<Opaque, number>;

const LIMIT_CODES = new Set(['too-large', 'too-deep', 'too-many-elements']);
// Module-local copies: imported bindings cost a getter call per use under some loaders (tsx).
const { DMDDF_NS, METINF_NS, SYNCML_NS, pageForNamespace } = codePages;
const { TNDS_WBXML_TYPE, TNDS_XML_TYPE } = constants;
const { isElement } = elements;

/** XML form → WBXML form: Data holding an element becomes OPAQUE of a nested WBXML document; Type `+xml` → `+wbxml`. */
export function embedDocuments(root: Element, version: number): Element {
  return new Embedder(version).visit(root);
}

/** WBXML form → XML form: the reverse of embedDocuments, for OPAQUE Data whose governing Type is `…dmtnds+wbxml`. */
export function expandDocuments(
  root: Element,
  limits: DecodeLimits,
  offsets: OpaqueOffsets,
  elementCount: number,
): Element {
  return new Expander(limits, offsets, elementCount).visit(root, undefined, 1); // the root is at depth 1
}

class Embedder {
  /** Set by visit(): the element had Data embedded directly under it but no Type of its own to rewrite. */
  private unresolved = false;

  constructor(private readonly version: number) {}

  visit(el: Element): Element {
    let kids: Node[] | undefined;
    let embeddedHere = false;
    let childUnresolved = false;
    const children = el.children;
    for (let i = 0; i < children.length; i++) {
      const node = children[i]!;
      if (typeof node === 'string' || !isElement(node) || !isSyncmlNs(node.ns)) continue;
      let next: Element;
      if (node.name === 'Data' && embeddedElement(node) !== undefined) {
        next = this.embedData(node);
        embeddedHere = true;
      } else if (hasElementChild(node)) {
        this.unresolved = false;
        next = this.visit(node);
        childUnresolved ||= this.unresolved;
      } else continue;
      if (next !== node) (kids ??= children.slice())[i] = next;
    }
    this.unresolved = false;
    if (!embeddedHere && !childUnresolved) return kids === undefined ? el : { ...el, children: kids };
    const retyped = retype(kids ?? children, TNDS_XML_TYPE, TNDS_WBXML_TYPE);
    if (retyped === undefined) {
      this.unresolved = embeddedHere; // let the parent (the command) rewrite its Meta Type
      return kids === undefined ? el : { ...el, children: kids };
    }
    return { ...el, children: retyped };
  }

  private embedData(data: Element): Element {
    const doc = embeddedElement(data)!;
    const nested = serializeWbxml(doc, { version: this.version });
    return { ...data, children: [{ opaque: nested }] };
  }
}

class Expander {
  private elements: number;
  /** Set by visit(): a Data directly under the element was expanded under the parent's Type. */
  private usedParentType = false;

  constructor(
    private readonly limits: DecodeLimits,
    private readonly offsets: OpaqueOffsets,
    elementCount: number,
  ) {
    this.elements = elementCount;
  }

  visit(el: Element, parentType: string | undefined, depth: number): Element {
    const ownType = metaType(el);
    const governing = ownType ?? parentType;
    let kids: Node[] | undefined;
    let expandedOwn = false;
    let expandedParent = false;
    let childUsedMine = false;
    const children = el.children;
    for (let i = 0; i < children.length; i++) {
      const node = children[i]!;
      if (typeof node === 'string' || !isElement(node) || !isSyncmlNs(node.ns)) continue;
      let next: Element = node;
      if (node.name === 'Data') {
        if (governing === TNDS_WBXML_TYPE) {
          next = this.expandData(node, depth + 1);
          if (next !== node) {
            if (ownType !== undefined) expandedOwn = true;
            else expandedParent = true;
          }
        }
      } else if (hasElementChild(node)) {
        this.usedParentType = false;
        next = this.visit(node, ownType, depth + 1);
        childUsedMine ||= this.usedParentType;
      }
      if (next !== node) (kids ??= children.slice())[i] = next;
    }
    this.usedParentType = expandedParent;
    if (expandedOwn || childUsedMine) {
      return {
        ...el,
        children: retype(kids ?? children, TNDS_WBXML_TYPE, TNDS_XML_TYPE) ?? kids ?? children,
      };
    }
    return kids === undefined ? el : { ...el, children: kids };
  }

  /** Data with one OPAQUE that parses as WBXML → Data holding the nested root; otherwise left as it is. */
  private expandData(data: Element, depth: number): Element {
    const only = soleOpaque(data);
    if (only === undefined) return data;
    const base = this.offsets.get(only) ?? 0;
    try {
      const { document, elementCount } = parseWbxml(only.opaque, this.limits, {
        base,
        depth,
        elements: this.elements,
      });
      this.elements = elementCount;
      return { ...data, children: [document.root] };
    } catch (error) {
      // libwbxml keeps Data that does not parse as it came; limits are hard, though.
      if (error instanceof DecodeError && !LIMIT_CODES.has(error.code)) return data;
      throw error;
    }
  }
}

/** The one OPAQUE in a Data, ignoring layout whitespace around it (`xml2wbxml -k` keeps that). */
function soleOpaque(data: Element): Opaque | undefined {
  let found: Opaque | undefined;
  for (const node of data.children) {
    if (typeof node === 'string') {
      if (node.trim().length > 0) return undefined;
    } else if (isElement(node) || found !== undefined) {
      return undefined;
    } else {
      found = node;
    }
  }
  return found;
}

function isSyncmlNs(ns: string): boolean {
  // A decoded tree holds the code pages' own namespace strings: the other two are answered without a lookup.
  if (ns === SYNCML_NS) return true;
  if (ns === METINF_NS || ns === DMDDF_NS) return false;
  return pageForNamespace(ns)?.ns === SYNCML_NS;
}

function isSyncml(el: Element, name: string): boolean {
  return el.name === name && isSyncmlNs(el.ns);
}

function isMetinf(el: Element, name: string): boolean {
  return el.name === name && (el.ns === METINF_NS || pageForNamespace(el.ns)?.ns === METINF_NS);
}

function hasElementChild(el: Element): boolean {
  const children = el.children;
  for (let i = 0; i < children.length; i++) {
    const node = children[i]!;
    if (typeof node !== 'string' && isElement(node)) return true;
  }
  return false;
}

/** The one element a Data holds (whitespace around it is layout); undefined if it holds none. */
function embeddedElement(data: Element): Element | undefined {
  let found: Element | undefined;
  for (const node of data.children) {
    if (isElement(node)) {
      if (found !== undefined) {
        throw new EncodeError(
          'wbxml-embedded-document',
          '<Data> holds more than one element; WBXML embeds one document',
        );
      }
      found = node;
    } else if (typeof node !== 'string' || node.trim().length > 0) {
      if (found !== undefined || hasElementChild(data)) {
        throw new EncodeError(
          'wbxml-embedded-document',
          '<Data> mixes an embedded document with other content',
        );
      }
    }
  }
  return found;
}

/** Text of `Meta/Type` among el's children, if any. */
function metaType(el: Element): string | undefined {
  for (const node of el.children) {
    if (!isElement(node) || !isSyncml(node, 'Meta')) continue;
    for (const m of node.children) {
      if (isElement(m) && isMetinf(m, 'Type'))
        return m.children.length === 1 ? textOf(m.children[0]!)?.trim() : undefined;
    }
  }
  return undefined;
}

function textOf(node: Node): string | undefined {
  return typeof node === 'string' ? node : undefined;
}

/** Children with `Meta/Type` `from` replaced by `to`; undefined when there is no such Type. */
function retype(children: readonly Node[], from: string, to: string): Node[] | undefined {
  for (let i = 0; i < children.length; i++) {
    const meta = children[i]!;
    if (!isElement(meta) || !isSyncml(meta, 'Meta')) continue;
    for (let j = 0; j < meta.children.length; j++) {
      const type = meta.children[j]!;
      if (!isElement(type) || !isMetinf(type, 'Type')) continue;
      const text = type.children.length === 1 ? type.children[0] : undefined;
      if (typeof text !== 'string' || text.trim() !== from) continue;
      const metaKids = meta.children.slice();
      metaKids[j] = { ...type, children: [to] };
      const out = children.slice();
      out[i] = { ...meta, children: metaKids };
      return out;
    }
  }
  return undefined;
}
