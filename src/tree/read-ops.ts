/** Get (tree.md §2, §3, §6): leaf values, interior child lists, `?prop=`, `?list=Struct|StructData|TNDS`. */
import type { XmlElement } from '../syncml/model.js';
import { mayGet, requireAccessType, requireAcl } from './access.js';
import { encodeB64, utf8 } from './format.js';
import type { ManagementTree } from './management-tree.js';
import { isDevice, isInterior, type Actor, type NodeRecord } from './node-record.js';
import { tndsDocument, TNDS_PROPERTIES, type TndsNode, type TndsProperty } from './tnds.js';
import { TreeError } from './tree-error.js';
import { escapeSegment, formatUri } from './uri.js';

/** One Results item, before the executor gives it its wire form. */
export interface ReadEntry {
  /** Source LocURI (with `?prop=…` for property Gets). */
  readonly uri: string;
  readonly format: string;
  readonly type: string;
  /** Leaf value, property value or interior child list; absent for `?list=Struct` entries. */
  readonly value?: Uint8Array;
  /** `?list=TNDS`: the TNDS document. */
  readonly tnds?: XmlElement;
}

export const PROPERTIES = ['ACL', 'Format', 'Name', 'Size', 'Title', 'TStamp', 'Type', 'VerNo'] as const;
export type PropertyName = (typeof PROPERTIES)[number];

export async function get(tree: ManagementTree, uri: string, actor: Actor): Promise<readonly ReadEntry[]> {
  const parsed = tree.parse(uri);
  const { segments } = parsed;
  const canonical = formatUri(segments);
  const node = tree.node(segments);
  if (node === undefined) {
    // DG-OBJ-05: below a node whose description forbids Get (./Inbox) the answer is 405, not 404.
    requireAccessType(tree.describe(segments), 'Get', actor, canonical);
    throw new TreeError(404, 'not-found', 'no such node', canonical);
  }
  if (parsed.query?.kind === 'prop')
    return [await getProperty(tree, segments, node, parsed.query.name, actor)];
  if (parsed.query?.kind === 'list') return list(tree, segments, parsed.query.spec, actor);
  requireAccessType(tree.describe(segments), 'Get', actor, canonical);
  requireAcl(tree, segments, 'Get', actor, canonical);
  return [await entryOf(tree, segments, node, actor, true)];
}

async function entryOf(
  tree: ManagementTree,
  segments: readonly string[],
  node: NodeRecord,
  actor: Actor,
  withValue: boolean,
): Promise<ReadEntry> {
  const uri = formatUri(segments);
  if (isInterior(node)) {
    // tree.md §2: child names joined by `/` (URI-encoded), Format node; none → empty Data.
    const value = withValue ? utf8(node.children.map(escapeSegment).join('/')) : undefined;
    return value === undefined
      ? { uri, format: 'node', type: node.type }
      : { uri, format: 'node', type: node.type, value };
  }
  if (!withValue) return { uri, format: node.format, type: node.type };
  return { uri, format: node.format, type: node.type, value: await leafValue(tree, segments, node, actor) };
}

/** A leaf's value: the mounted plugin's dynamic value when it has one, else the stored value. */
export async function leafValue(
  tree: ManagementTree,
  segments: readonly string[],
  node: NodeRecord,
  actor: Actor | undefined,
): Promise<Uint8Array> {
  const mount = tree.pluginAt(segments);
  if (mount?.plugin.read !== undefined) {
    const serverId = actor === undefined || isDevice(actor) ? {} : { serverId: actor.serverId };
    const dynamic = await mount.plugin.read({ uri: formatUri(segments), path: mount.path, ...serverId });
    if (dynamic !== undefined) return typeof dynamic === 'string' ? utf8(dynamic) : dynamic;
  }
  return node.value ?? new Uint8Array();
}

/** ISO 8601 basic UTC, e.g. `20010711T163817Z` (tree.md §3). */
export function formatTStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function isPropertyName(name: string): name is PropertyName {
  return (PROPERTIES as readonly string[]).includes(name);
}

/** Value of a property, or undefined when this device/node does not support it (→ 406). */
export function propertyValue(
  tree: ManagementTree,
  node: NodeRecord,
  name: PropertyName,
): string | undefined {
  switch (name) {
    case 'ACL':
      return node.acl; // tree.md §5.2 / DG-PRP-01: the node's own ACL, not the inherited one.
    case 'Format':
      return node.format;
    case 'Name':
      return node.name;
    case 'Type':
      return node.type;
    case 'Size':
      // tree.md §3: MUST NOT for interior nodes; the raw (decoded) byte count for leaves.
      return tree.optionalProperties.has('Size') && !isInterior(node)
        ? String(node.value?.length ?? 0)
        : undefined;
    case 'Title':
      return tree.optionalProperties.has('Title') ? (node.title ?? '') : undefined;
    case 'TStamp':
      return tree.optionalProperties.has('TStamp') ? formatTStamp(node.tstamp) : undefined;
    case 'VerNo':
      return tree.optionalProperties.has('VerNo') ? String(node.verNo) : undefined;
  }
}

async function getProperty(
  tree: ManagementTree,
  segments: readonly string[],
  node: NodeRecord,
  name: string,
  actor: Actor,
): Promise<ReadEntry> {
  const uri = `${formatUri(segments)}?prop=${name}`;
  // tree.md §3: an unsupported property → 406.
  if (!isPropertyName(name))
    throw new TreeError(406, 'unsupported-property', `property ${name} is not supported`, uri);
  requireAcl(tree, segments, 'Get', actor, uri);
  let value = propertyValue(tree, node, name);
  if (value === undefined)
    throw new TreeError(406, 'unsupported-property', `property ${name} is not supported here`, uri);
  if (name === 'Size' && tree.pluginAt(segments)?.plugin.read !== undefined) {
    value = String((await leafValue(tree, segments, node, actor)).length);
  }
  // tree.md §3: property values are chr / text/plain.
  return { uri, format: 'chr', type: 'text/plain', value: utf8(value) };
}

async function list(
  tree: ManagementTree,
  segments: readonly string[],
  spec: string,
  actor: Actor,
): Promise<ReadEntry[]> {
  const canonical = formatUri(segments);
  requireAccessType(tree.describe(segments), 'Get', actor, canonical);
  requireAcl(tree, segments, 'Get', actor, canonical);
  if (spec === 'Struct' || spec === 'StructData') {
    const out: ReadEntry[] = [];
    await walk(tree, segments, actor, async (segs, node) => {
      out.push(await entryOf(tree, segs, node, actor, spec === 'StructData' && !isInterior(node)));
    });
    return out;
  }
  if (spec === 'TNDS' || spec.startsWith('TNDS+') || spec.startsWith('TNDS-')) {
    const props = tndsSelection(spec.slice(4), `${canonical}?list=${spec}`);
    const top = await tndsNode(tree, segments, actor, props);
    const nodes = segments.length === 0 ? (top?.children ?? []) : top === undefined ? [] : [top];
    return [
      { uri: canonical, format: 'xml', type: 'application/vnd.syncml.dmtnds+xml', tnds: tndsDocument(nodes) },
    ];
  }
  throw new TreeError(406, 'unsupported-list', `?list=${spec} is not supported`, `${canonical}?list=${spec}`);
}

/** Pre-order walk of the nodes the actor may Get (tree.md §6: only those are included). */
async function walk(
  tree: ManagementTree,
  segments: readonly string[],
  actor: Actor,
  visit: (segments: readonly string[], node: NodeRecord) => Promise<void>,
): Promise<void> {
  const node = tree.node(segments);
  if (node === undefined || !mayGet(tree, segments, actor)) return;
  await visit(segments, node);
  for (const child of node.children) await walk(tree, [...segments, child], actor, visit);
}

/** `+A+B` keeps only the listed properties, `-A-B` all but them (tree.md §6); mixing or unknown names → 406. */
function tndsSelection(selectors: string, uri: string): ReadonlySet<TndsProperty> {
  if (selectors === '') return new Set(TNDS_PROPERTIES);
  const sign = selectors[0];
  const names = selectors.slice(1).split(sign === '+' ? '+' : '-');
  if (names.some((n) => n.includes('+') || n.includes('-'))) {
    throw new TreeError(406, 'unsupported-list', '`+` and `-` selectors cannot be mixed', uri);
  }
  for (const n of names) {
    if (!(TNDS_PROPERTIES as readonly string[]).includes(n)) {
      throw new TreeError(406, 'unsupported-list', `unknown TNDS property ${n}`, uri);
    }
  }
  const listed = new Set(names as TndsProperty[]);
  return new Set(TNDS_PROPERTIES.filter((p) => (sign === '+' ? listed.has(p) : !listed.has(p))));
}

async function tndsNode(
  tree: ManagementTree,
  segments: readonly string[],
  actor: Actor,
  props: ReadonlySet<TndsProperty>,
): Promise<TndsNode | undefined> {
  const node = tree.node(segments);
  if (node === undefined || !mayGet(tree, segments, actor)) return undefined;
  const children: TndsNode[] = [];
  for (const name of node.children) {
    const child = await tndsNode(tree, [...segments, name], actor, props);
    if (child !== undefined) children.push(child);
  }
  const properties: Partial<Record<TndsProperty, string>> = {};
  for (const p of props) {
    if (p === 'Value') continue;
    const v = propertyValue(tree, node, p);
    if (v !== undefined && (v !== '' || p === 'Format' || p === 'Type')) properties[p] = v;
  }
  let value: string | undefined;
  if (props.has('Value') && !isInterior(node)) {
    const bytes = await leafValue(tree, segments, node, actor);
    // Binary values travel as Base64 text inside the TNDS document.
    value = node.format === 'bin' ? encodeB64(bytes) : new TextDecoder().decode(bytes);
  }
  return { name: node.name, properties, children, ...(value === undefined ? {} : { value }) };
}
