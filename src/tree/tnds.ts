/**
 * TNDS (tree.md §9): a runtime subtree in the DDF vocabulary, RTProperties on every node, Value for leaves.
 * This file maps between TndsNode values and MgmtTree documents; read-ops builds them from the tree and
 * tnds-import applies them to it.
 */
import type { XmlElement } from '../syncml/model.js';
import {
  child,
  childElements,
  children,
  childText,
  choiceOf,
  el,
  empty,
  invalidDoc,
  textOf,
  withDdfNamespace,
  type DocElement,
} from './doc-element.js';

/** Properties a `?list=TNDS+…` selector may name: the RTProperties plus Value (tree.md §6). */
export const TNDS_PROPERTIES = [
  'ACL',
  'Format',
  'Name',
  'Size',
  'Title',
  'TStamp',
  'Type',
  'VerNo',
  'Value',
] as const;
export type TndsProperty = (typeof TNDS_PROPERTIES)[number];
export type RtProperty = Exclude<TndsProperty, 'Value'>;

export interface TndsNode {
  /** NodeName; '' when omitted (the device then places it by Type). */
  readonly name: string;
  /** Path of the parent, relative to the command target (tree.md §9). */
  readonly path?: string;
  readonly properties: Partial<Record<RtProperty, string>>;
  /** Leaf value as text (Base64 for Format bin). */
  readonly value?: string;
  readonly children: readonly TndsNode[];
}

const RT_ORDER: readonly RtProperty[] = ['ACL', 'Format', 'Name', 'Size', 'Title', 'TStamp', 'Type', 'VerNo'];

function nodeElement(node: TndsNode): XmlElement {
  const props = node.properties;
  const interior = props.Format === 'node';
  const rt = RT_ORDER.filter((p) => props[p] !== undefined).map((p): XmlElement => {
    const v = props[p]!;
    if (p === 'Format') return el('Format', empty(v));
    if (p === 'Type') return el('Type', el(interior ? 'DDFName' : 'MIME', ...(v === '' ? [] : [v])));
    return el(p, ...(v === '' ? [] : [v]));
  });
  return el(
    'Node',
    el('NodeName', ...(node.name === '' ? [] : [node.name])),
    node.path === undefined ? undefined : el('Path', node.path),
    el('RTProperties', ...rt),
    ...node.children.map(nodeElement),
    node.value === undefined ? undefined : el('Value', node.value),
  );
}

/** A complete TNDS MgmtTree document (namespace `syncml:dmddf1.2`). */
export function tndsDocument(nodes: readonly TndsNode[]): XmlElement {
  return withDdfNamespace(el('MgmtTree', el('VerDTD', '1.2'), ...nodes.map(nodeElement)));
}

/** Reads a TNDS MgmtTree document. Malformed → TreeError 400. */
export function parseTnds(doc: DocElement): TndsNode[] {
  if (doc.name !== 'MgmtTree') throw invalidDoc('TNDS', `root element is ${doc.name}, expected MgmtTree`);
  return children(doc, 'Node').map(readNode);
}

function readNode(node: DocElement): TndsNode {
  const nameEl = child(node, 'NodeName');
  if (nameEl === undefined) throw invalidDoc('TNDS', 'Node without NodeName');
  const rt = child(node, 'RTProperties');
  const properties: Partial<Record<RtProperty, string>> = {};
  for (const p of rt === undefined ? [] : childElements(rt)) {
    if (!(RT_ORDER as readonly string[]).includes(p.name)) continue;
    const key = p.name as RtProperty;
    if (key === 'Format') properties.Format = choiceOf(p) ?? textOf(p).trim();
    else if (key === 'Type') properties.Type = textOf(childElements(p)[0] ?? p).trim();
    else properties[key] = textOf(p).trim();
  }
  const path = childText(node, 'Path');
  const valueEl = child(node, 'Value');
  return {
    name: textOf(nameEl).trim(),
    properties,
    children: children(node, 'Node').map(readNode),
    ...(path === undefined ? {} : { path }),
    ...(valueEl === undefined ? {} : { value: textOf(valueEl) }),
  };
}
