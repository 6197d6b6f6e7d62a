/**
 * DDF documents (tree.md §8): MgmtTree → NodeDescriptions (to define a subtree) and back (to publish the
 * tree's description). Works on model XmlElements and codec Elements alike; ddf-codec.ts adds XML/WBXML.
 */
import type { XmlElement } from '../syncml/model.js';
import {
  ACCESS_RIGHTS,
  OCCURRENCES,
  type AccessRight,
  type NodeDescription,
  type Occurrence,
} from './description.js';
import {
  child,
  childElements,
  children,
  childText,
  choiceOf,
  el,
  empty,
  invalidDoc,
  withDdfNamespace,
  type DocElement,
} from './doc-element.js';
import { isFormat } from './format.js';
import type { ManagementTree } from './management-tree.js';

export interface DdfDocument {
  readonly man?: string;
  readonly mod?: string;
  /** Top-level nodes with the Path of their parent ('.' when absent). */
  readonly nodes: readonly { readonly path: string; readonly description: NodeDescription }[];
}

/** Reads a DDF MgmtTree. Malformed → TreeError 400 naming the node. */
export function parseDdf(doc: DocElement): DdfDocument {
  if (doc.name !== 'MgmtTree') throw invalidDoc('DDF', `root element is ${doc.name}, expected MgmtTree`);
  const man = childText(doc, 'Man');
  const mod = childText(doc, 'Mod');
  const nodes = children(doc, 'Node').map((n) => ({
    path: childText(n, 'Path') ?? '.',
    description: readNode(n, ''),
  }));
  return { ...(man === undefined ? {} : { man }), ...(mod === undefined ? {} : { mod }), nodes };
}

function readNode(node: DocElement, where: string): NodeDescription {
  const rawName = childText(node, 'NodeName');
  if (rawName === undefined) throw invalidDoc('DDF', `Node without NodeName under ${where || '.'}`);
  const at = `${where}/${rawName || '<x>'}`;
  const df = child(node, 'DFProperties');
  if (df === undefined) throw invalidDoc('DDF', `${at} has no DFProperties`);
  const accessType = childElements(child(df, 'AccessType') ?? { name: 'AccessType', children: [] }).map(
    (a) => a.name,
  );
  for (const a of accessType) {
    if (!(ACCESS_RIGHTS as readonly string[]).includes(a))
      throw invalidDoc('DDF', `${at}: unknown AccessType ${a}`);
  }
  const format = choiceOf(child(df, 'DFFormat'));
  if (format === undefined || !isFormat(format))
    throw invalidDoc('DDF', `${at}: missing or unknown DFFormat ${format ?? ''}`);
  const occEl = child(df, 'Occurrence');
  const occ = choiceOf(occEl) ?? 'One';
  if (!(OCCURRENCES as readonly string[]).includes(occ))
    throw invalidDoc('DDF', `${at}: unknown Occurrence ${occ}`);
  const occChoice = occEl === undefined ? undefined : childElements(occEl)[0];
  const maxOcc = occ.endsWith('N')
    ? Number(occChoice === undefined ? NaN : childTextOf(occChoice))
    : undefined;
  if (maxOcc !== undefined && !(Number.isInteger(maxOcc) && maxOcc >= 2 && maxOcc <= 65536)) {
    throw invalidDoc('DDF', `${at}: ${occ} needs N between 2 and 65536`);
  }
  const scope = choiceOf(child(df, 'Scope')) ?? 'Dynamic';
  if (scope !== 'Permanent' && scope !== 'Dynamic') throw invalidDoc('DDF', `${at}: unknown Scope ${scope}`);
  const dfType = child(df, 'DFType');
  // Interior: the DDFName (MO identifier); some DDFs put MIME there, which names no MO.
  const typeEls =
    dfType === undefined
      ? []
      : childElements(dfType).filter((t) => format !== 'node' || t.name === 'DDFName');
  const types = typeEls.map((t) => childTextOf(t));
  const caseSense = choiceOf(child(df, 'CaseSense'));
  const rt = child(node, 'RTProperties');
  const acl = rt === undefined ? undefined : childText(rt, 'ACL');
  const defaultValue = childText(df, 'DefaultValue') ?? childText(node, 'Value');
  const description = childText(df, 'Description');
  const title = childText(df, 'DFTitle');
  const kids = children(node, 'Node').map((c) => readNode(c, at));
  if (format !== 'node' && kids.length > 0)
    throw invalidDoc('DDF', `${at}: a ${format} leaf cannot have child nodes`);
  return {
    ...(rawName === '' ? {} : { name: rawName }),
    accessType: accessType as AccessRight[],
    format: format,
    occurrence: occ as Occurrence,
    scope,
    types: format === 'node' ? types.filter((t) => t !== '').slice(0, 1) : types,
    children: kids,
    ...(maxOcc === undefined ? {} : { maxOccurrence: maxOcc }),
    ...(defaultValue === undefined ? {} : { defaultValue }),
    ...(description === undefined ? {} : { description }),
    ...(title === undefined ? {} : { title }),
    ...(caseSense === 'CS' || caseSense === 'CIS' ? { caseSense } : {}),
    ...(acl === undefined || acl === '' ? {} : { acl }),
  };
}

function childTextOf(e: DocElement): string {
  return e.children
    .filter((c): c is string => typeof c === 'string')
    .join('')
    .trim();
}

/** Defines every node of a DDF document in the tree (Path = parent URI). */
export async function loadDdf(tree: ManagementTree, doc: DocElement): Promise<DdfDocument> {
  const ddf = parseDdf(doc);
  for (const n of ddf.nodes) await tree.define([n.description], n.path);
  return ddf;
}

/** The DDF of a list of descriptions (MgmtTree, VerDTD 1.2, namespace syncml:dmddf1.2). */
export function ddfDocument(ddf: DdfDocument): XmlElement {
  return withDdfNamespace(
    el(
      'MgmtTree',
      el('VerDTD', '1.2'),
      ddf.man === undefined ? undefined : el('Man', ddf.man),
      ddf.mod === undefined ? undefined : el('Mod', ddf.mod),
      ...ddf.nodes.map((n) => nodeElement(n.description, n.path)),
    ),
  );
}

/** The tree's whole description as a DDF document (top-level nodes with Path `.`). */
export function exportDdf(
  tree: ManagementTree,
  info: { readonly man?: string; readonly mod?: string } = {},
): XmlElement {
  const nodes = tree.rootDescription().children.map((description) => ({ path: '.', description }));
  return ddfDocument({ ...info, nodes });
}

function nodeElement(d: NodeDescription, path?: string): XmlElement {
  const occurrence =
    d.maxOccurrence === undefined ? empty(d.occurrence) : el(d.occurrence, String(d.maxOccurrence));
  const df = el(
    'DFProperties',
    el('AccessType', ...d.accessType.map(empty)),
    d.defaultValue === undefined ? undefined : el('DefaultValue', d.defaultValue),
    d.description === undefined ? undefined : el('Description', d.description),
    el('DFFormat', empty(d.format)),
    el('Occurrence', occurrence),
    el('Scope', empty(d.scope)),
    d.title === undefined ? undefined : el('DFTitle', d.title),
    el(
      'DFType',
      ...(d.format === 'node'
        ? [el('DDFName', ...(d.types[0] ? [d.types[0]] : []))]
        : d.types.map((t) => el('MIME', t))),
    ),
    d.caseSense === undefined ? undefined : el('CaseSense', empty(d.caseSense)),
  );
  return el(
    'Node',
    el('NodeName', ...(d.name === undefined ? [] : [d.name])),
    path === undefined ? undefined : el('Path', path),
    d.acl === undefined
      ? undefined
      : el(
          'RTProperties',
          el('ACL', d.acl),
          el('Type', el(d.format === 'node' ? 'DDFName' : 'MIME', d.types[0] ?? '')),
        ),
    df,
    ...d.children.map((c) => nodeElement(c)),
  );
}
