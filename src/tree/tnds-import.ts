/**
 * Add with a TNDS payload (representation.md §6, tree.md §9): one command creates a whole subtree, paths
 * relative to the Add target; one status for all nodes; any failing node fails the command with its own
 * code and URI and leaves the tree unchanged (DG-TND-03).
 */
import type { Data } from '../syncml/model.js';
import { parseXml } from '../syncml/xml/index.js';
import { readWbxml } from '../syncml/wbxml/index.js';
import type { ManagementTree } from './management-tree.js';
import type { Actor } from './node-record.js';
import { parseTnds, type TndsNode } from './tnds.js';
import { TreeError } from './tree-error.js';
import { formatUri } from './uri.js';
import type { DocElement } from './doc-element.js';
import { OmadmError } from '../errors.js';

/** The MgmtTree element of a TNDS Data: embedded XML, XML text, or a WBXML document (code page 2). */
export function tndsRoot(data: Data | undefined, uri: string): DocElement {
  if (data === undefined) throw new TreeError(412, 'incomplete-command', 'TNDS Add without Data', uri);
  if (data.kind === 'xml') return data.element;
  try {
    return data.kind === 'text' ? parseXml(data.text) : readWbxml(data.bytes).root;
  } catch (cause) {
    const why = cause instanceof OmadmError ? cause.message : String(cause);
    throw new TreeError(400, 'bad-tnds', `TNDS document does not decode (${why})`, uri);
  }
}

export async function addTnds(
  tree: ManagementTree,
  targetUri: string,
  data: Data | undefined,
  actor: Actor,
): Promise<void> {
  const base = tree.parse(targetUri).segments;
  const nodes = parseTnds(tndsRoot(data, targetUri));
  await tree.transaction(async () => {
    if (tree.node(base) === undefined) await tree.add(formatUri(base), { format: 'node' }, actor);
    for (const node of nodes) {
      // tree.md §7.4 / §9: an MO sent to ./Inbox is placed by its Type.
      const routed =
        base.length === 1 && base[0] === 'Inbox' && node.path === undefined
          ? tree.inboxRoute(node.properties.Type)
          : undefined;
      if (routed !== undefined && tree.node(routed) === undefined)
        await tree.add(formatUri(routed), { format: 'node' }, actor);
      await importNode(tree, routed ?? base, node, actor);
    }
  });
}

/**
 * Replace with a TNDS payload (representation.md §6): each listed subtree is made equal to the document — values
 * and Format/Type replaced, nodes absent from the document deleted, new ones added — all-or-nothing.
 */
export async function replaceTnds(
  tree: ManagementTree,
  targetUri: string,
  data: Data | undefined,
  actor: Actor,
): Promise<void> {
  const base = tree.parse(targetUri).segments;
  const nodes = parseTnds(tndsRoot(data, targetUri));
  await tree.transaction(async () => {
    tree.requireNode(base, formatUri(base));
    for (const node of nodes) await replaceNode(tree, parentOf(tree, base, node.path), node, actor);
  });
}

async function replaceNode(
  tree: ManagementTree,
  parent: readonly string[],
  node: TndsNode,
  actor: Actor,
): Promise<void> {
  const segments = [...parent, node.name];
  const uri = formatUri(segments);
  const existing = tree.node(segments);
  if (existing === undefined || node.name === '') {
    const { path: _placed, ...here } = node; // `parent` already includes the Path
    return importNode(tree, parent, here, actor);
  }
  const format = node.properties.Format;
  if (existing.format === 'node') {
    if (format !== undefined && format !== 'node')
      throw new TreeError(405, 'tnds-kind-change', 'TNDS makes an interior node a leaf', uri);
    const keep = new Set(node.children.map((c) => c.name));
    for (const name of existing.children)
      if (!keep.has(name)) await tree.delete(formatUri([...segments, name]), actor);
    for (const c of node.children) await replaceNode(tree, segments, c, actor);
  } else {
    if (format === 'node' || node.children.length > 0)
      throw new TreeError(405, 'tnds-kind-change', 'TNDS makes a leaf interior', uri);
    const type = node.properties.Type;
    await tree.replace(
      uri,
      {
        ...(format === undefined ? {} : { format: format === 'bin' ? 'b64' : format }),
        ...(type === undefined || type === '' ? {} : { type }),
        value: node.value ?? '',
      },
      actor,
    );
  }
  if (node.properties.ACL !== undefined)
    await tree.replace(`${uri}?prop=ACL`, { value: node.properties.ACL }, actor);
  if (node.properties.Title !== undefined)
    await tree.replace(`${uri}?prop=Title`, { value: node.properties.Title }, actor);
}

/** Imports nodes as the device (no ACL checks): restoring a device profile, bootstrap documents. */
export async function importTnds(
  tree: ManagementTree,
  targetUri: string,
  root: DocElement,
  actor: Actor,
): Promise<void> {
  const base = tree.parse(targetUri).segments;
  const nodes = parseTnds(root);
  await tree.transaction(async () => {
    for (const node of nodes) await importNode(tree, base, node, actor);
  });
}

function parentOf(
  tree: ManagementTree,
  base: readonly string[],
  path: string | undefined,
): readonly string[] {
  if (path === undefined || path === '' || path === '.') return path === '.' ? [] : base;
  const parsed = tree.parse(path).segments;
  return path.startsWith('./') ? parsed : [...base, ...parsed];
}

async function importNode(
  tree: ManagementTree,
  base: readonly string[],
  node: TndsNode,
  actor: Actor,
): Promise<void> {
  const parent = parentOf(tree, base, node.path);
  if (node.name === '') {
    throw new TreeError(
      406,
      'tnds-unnamed-node',
      'placing unnamed TNDS nodes by Type is not supported',
      formatUri(parent),
    );
  }
  const segments = [...parent, node.name];
  const uri = formatUri(segments);
  const format =
    node.properties.Format ?? (node.children.length > 0 || node.value === undefined ? 'node' : 'chr');
  const type = node.properties.Type;
  const exists = tree.node(segments) !== undefined;
  // Existing interior nodes (e.g. the target itself) are merged into; anything else is added.
  if (!(exists && format === 'node')) {
    await tree.add(
      uri,
      {
        // TNDS carries bin values as Base64 text.
        format: format === 'bin' ? 'b64' : format,
        ...(type === undefined || type === '' ? {} : { type }),
        ...(node.value === undefined ? {} : { value: node.value }),
      },
      actor,
    );
  }
  if (node.properties.ACL !== undefined)
    await tree.replace(`${uri}?prop=ACL`, { value: node.properties.ACL }, actor);
  if (node.properties.Title !== undefined)
    await tree.replace(`${uri}?prop=Title`, { value: node.properties.Title }, actor);
  for (const c of node.children) await importNode(tree, segments, c, actor);
}
