/** Add, Replace, Delete, Copy (representation.md §6, tree.md §2–§5) and DDF-driven node creation. */
import { parseAcl } from './acl.js';
import { hasAcl, requireAccessType, requireAcl } from './access.js';
import type { NodeDescription } from './description.js';
import { utf8 } from './format.js';
import type { ManagementTree } from './management-tree.js';
import { isDevice, isInterior, type Actor, type NodeRecord } from './node-record.js';
import { leafValue } from './read-ops.js';
import { TreeError } from './tree-error.js';
import { checkNodeName, formatUri } from './uri.js';
import { resolveInput, type NodeInput, type ResolvedValue } from './value-input.js';

function noQuery(tree: ManagementTree, uri: string, command: string): readonly string[] {
  const parsed = tree.parse(uri);
  if (parsed.query?.kind === 'list') {
    throw new TreeError(405, 'command-not-allowed', `${command} is not allowed with ?list=`, uri);
  }
  // tree.md §3: properties exist with their node and cannot be Added or Deleted.
  if (parsed.query !== undefined)
    throw new TreeError(405, 'command-not-allowed', `${command} of a property`, uri);
  return parsed.segments;
}

/** ACL for an interior node a server creates (tree.md §5.3): its own rights when it lacks Replace on the parent. */
function newInteriorAcl(tree: ManagementTree, parent: readonly string[], actor: Actor): string {
  if (isDevice(actor) || hasAcl(tree, parent, 'Replace', actor)) return '';
  const s = actor.serverId;
  // The spec grants Add, Delete, Replace; Get is added so the creator can read what it made.
  return `Add=${s}&Delete=${s}&Get=${s}&Replace=${s}`;
}

function attach(tree: ManagementTree, parent: readonly string[], name: string, record: NodeRecord): void {
  const p = tree.node(parent)!;
  tree.setNode([...parent, name], record);
  tree.setNode(parent, tree.touched(p, { children: [...p.children, name] }));
}

function recordOf(tree: ManagementTree, name: string, value: ResolvedValue, acl: string): NodeRecord {
  const base = {
    name,
    format: value.format,
    type: value.type,
    acl,
    tstamp: tree.now(),
    verNo: 0,
    children: [],
  };
  return value.bytes === undefined ? base : { ...base, value: value.bytes };
}

async function notifyWrite(
  tree: ManagementTree,
  segments: readonly string[],
  value: ResolvedValue,
  actor: Actor,
) {
  const mount = tree.pluginAt(segments);
  if (mount?.plugin.write === undefined || value.bytes === undefined) return;
  const serverId = isDevice(actor) ? {} : { serverId: actor.serverId };
  await mount.plugin.write({
    uri: formatUri(segments),
    path: mount.path,
    value: value.bytes,
    format: value.format,
    ...serverId,
  });
}

/**
 * Add (representation.md §6): 418 if present; missing interior parents are created implicitly where the
 * description allows (a failure names the parent in the error's uri); all-or-nothing.
 */
export async function add(tree: ManagementTree, uri: string, input: NodeInput, actor: Actor): Promise<void> {
  const segments = noQuery(tree, uri, 'Add');
  const canonical = formatUri(segments);
  const routed = segments.length === 2 && segments[0] === 'Inbox' ? tree.inboxRoute(input.type) : undefined;
  if (routed !== undefined) {
    // tree.md §7.4: the device places an MO Added to ./Inbox by its MO identifier.
    requireAcl(tree, ['Inbox'], 'Add', actor, canonical);
    return add(tree, formatUri([...routed, segments[1]!]), input, actor);
  }
  if (tree.node(segments) !== undefined)
    throw new TreeError(418, 'already-exists', 'node already exists', canonical);
  let depth = segments.length - 1;
  while (tree.node(segments.slice(0, depth)) === undefined) depth--;
  const existing = segments.slice(0, depth);
  if (!isInterior(tree.node(existing)!)) {
    throw new TreeError(405, 'parent-is-leaf', 'cannot add below a leaf', formatUri(existing));
  }
  // tree.md §5.3: Add is authorized by the parent's (nearest existing ancestor's) effective ACL.
  requireAcl(tree, existing, 'Add', actor, canonical);
  await tree.transaction(async () => {
    for (let n = depth + 1; n < segments.length; n++) {
      const at = segments.slice(0, n);
      const desc = tree.describe(at);
      checkPlacement(tree, at, desc, actor);
      if (desc !== undefined && desc.format !== 'node') {
        throw new TreeError(
          405,
          'implicit-add-not-allowed',
          'cannot create a leaf as an implicit parent',
          formatUri(at),
        );
      }
      const acl = newInteriorAcl(tree, at.slice(0, -1), actor);
      attach(
        tree,
        at.slice(0, -1),
        at[n - 1]!,
        recordOf(tree, at[n - 1]!, { format: 'node', type: desc?.types[0] ?? '' }, acl),
      );
    }
    const desc = tree.describe(segments);
    checkPlacement(tree, segments, desc, actor);
    const value = resolveInput(input, desc, undefined, canonical);
    const parent = segments.slice(0, -1);
    const acl = value.format === 'node' ? newInteriorAcl(tree, parent, actor) : '';
    attach(
      tree,
      parent,
      segments[segments.length - 1]!,
      recordOf(tree, segments[segments.length - 1]!, value, acl),
    );
    await notifyWrite(tree, segments, value, actor);
  });
}

/** A server may add a node only where the description allows it (tree.md §8). */
function checkPlacement(
  tree: ManagementTree,
  segments: readonly string[],
  desc: NodeDescription | undefined,
  actor: Actor,
) {
  const uri = formatUri(segments);
  if (isDevice(actor)) return;
  const parentDesc = tree.describe(segments.slice(0, -1));
  if (
    desc === undefined &&
    parentDesc !== undefined &&
    parentDesc.open !== true &&
    parentDesc.children.length > 0
  ) {
    throw new TreeError(405, 'not-in-description', 'the device description has no such node', uri);
  }
  requireAccessType(desc, 'Add', actor, uri);
  if (desc !== undefined && desc.name === undefined) {
    // tree.md §8 Occurrence: at most N (ZeroOrN/OneOrN) or one (One/ZeroOrOne) instances of an unnamed node.
    const max =
      desc.maxOccurrence ?? (desc.occurrence === 'One' || desc.occurrence === 'ZeroOrOne' ? 1 : Infinity);
    const parent = segments.slice(0, -1);
    const siblings =
      tree.node(parent)?.children.filter((c) => tree.describe([...parent, c]) === desc).length ?? 0;
    if (siblings >= max) {
      throw new TreeError(
        405,
        'occurrence-exceeded',
        `the description allows at most ${max} such node(s)`,
        uri,
      );
    }
  }
}

/** Replace (representation.md §6): never creates (404); `?prop=ACL|Name|Title` per tree.md §3. */
export async function replace(
  tree: ManagementTree,
  uri: string,
  input: NodeInput,
  actor: Actor,
): Promise<void> {
  const parsed = tree.parse(uri);
  const { segments } = parsed;
  const canonical = formatUri(segments);
  const node = tree.requireNode(segments, canonical);
  if (parsed.query?.kind === 'list')
    throw new TreeError(405, 'command-not-allowed', 'Replace with ?list=', uri);
  if (parsed.query?.kind === 'prop') {
    const text =
      typeof input.value === 'string'
        ? input.value
        : new TextDecoder().decode(input.value ?? new Uint8Array());
    replaceProperty(tree, segments, node, parsed.query.name, text, actor);
    return;
  }
  if (isInterior(node))
    throw new TreeError(405, 'command-not-allowed', 'an interior node has no value to replace', canonical);
  const desc = tree.describe(segments);
  requireAccessType(desc, 'Replace', actor, canonical);
  requireAcl(tree, segments, 'Replace', actor, canonical);
  const value = resolveInput(input, desc, node, canonical);
  if (value.format === 'node')
    throw new TreeError(
      405,
      'leaf-to-interior',
      'Replace cannot turn a leaf into an interior node',
      canonical,
    );
  await notifyWrite(tree, segments, value, actor);
  tree.setNode(
    segments,
    tree.touched(node, { format: value.format, type: value.type, value: value.bytes ?? new Uint8Array() }),
  );
}

function replaceProperty(
  tree: ManagementTree,
  segments: readonly string[],
  node: NodeRecord,
  name: string,
  text: string,
  actor: Actor,
): void {
  const uri = `${formatUri(segments)}?prop=${name}`;
  switch (name) {
    case 'ACL': {
      const parent = segments.slice(0, -1);
      // tree.md §5.3: interior → Replace in its own or its parent's ACL; leaf → Replace on the parent only.
      const ok =
        isDevice(actor) ||
        (segments.length > 0 && hasAcl(tree, parent, 'Replace', actor)) ||
        ((isInterior(node) || segments.length === 0) && hasAcl(tree, segments, 'Replace', actor));
      if (!ok) throw new TreeError(425, 'permission-denied', 'no Replace right covering this ACL', uri);
      parseAcl(text, uri);
      // tree.md §5.2: the root always has a (non-empty) ACL.
      if (segments.length === 0 && text === '')
        throw new TreeError(405, 'root-acl-empty', 'the root ACL cannot be empty', uri);
      tree.setNode(segments, tree.touched(node, { acl: text }));
      return;
    }
    case 'Name':
      return rename(tree, segments, node, text, actor, uri);
    case 'Title':
      if (!tree.optionalProperties.has('Title'))
        throw new TreeError(406, 'unsupported-property', 'Title is not supported', uri);
      requireAcl(tree, segments, 'Replace', actor, uri);
      if (utf8(text).length > 255)
        throw new TreeError(400, 'title-too-long', 'Title is limited to 255 bytes', uri);
      tree.setNode(segments, tree.touched(node, { title: text }));
      return;
    case 'Format':
    case 'Type':
    case 'Size':
    case 'TStamp':
    case 'VerNo':
      // tree.md §3: these properties are Get-only (DG-PRP-03).
      throw new TreeError(405, 'property-read-only', `property ${name} cannot be replaced`, uri);
    default:
      throw new TreeError(406, 'unsupported-property', `property ${name} is not supported`, uri);
  }
}

/** Replace ?prop=Name (tree.md §3): 418 on a sibling clash, 405 for permanent or DDF-named nodes and the root. */
function rename(
  tree: ManagementTree,
  segments: readonly string[],
  node: NodeRecord,
  name: string,
  actor: Actor,
  uri: string,
) {
  const desc = tree.describe(segments);
  if (
    segments.length === 0 ||
    (!isDevice(actor) && (desc?.scope === 'Permanent' || desc?.name !== undefined))
  ) {
    throw new TreeError(405, 'rename-not-allowed', 'this node cannot be renamed', uri);
  }
  requireAcl(tree, segments, 'Replace', actor, uri);
  checkNodeName(name, uri);
  const parent = segments.slice(0, -1);
  if (tree.node([...parent, name]) !== undefined)
    throw new TreeError(418, 'already-exists', `a sibling is named ${name}`, uri);
  const moved: [readonly string[], NodeRecord][] = [];
  const collect = (segs: readonly string[], rel: readonly string[]) => {
    const rec = tree.node(segs)!;
    moved.push([rel, rec]);
    for (const c of rec.children) collect([...segs, c], [...rel, c]);
  };
  collect(segments, []);
  for (const [rel] of moved) tree.deleteNode([...segments, ...rel]);
  for (const [rel, rec] of moved)
    tree.setNode([...parent, name, ...rel], rel.length === 0 ? tree.touched(rec, { name }) : rec);
  const p = tree.node(parent)!;
  tree.setNode(parent, tree.touched(p, { children: p.children.map((c) => (c === node.name ? name : c)) }));
}

/** Delete (representation.md §6): recursive; root, permanent nodes and AccessType without Delete → 405. */
export async function remove(tree: ManagementTree, uri: string, actor: Actor): Promise<void> {
  const segments = noQuery(tree, uri, 'Delete');
  const canonical = formatUri(segments);
  if (segments.length === 0) throw new TreeError(405, 'root-delete', 'the root cannot be deleted', canonical);
  const node = tree.requireNode(segments, canonical);
  requireAccessType(tree.describe(segments), 'Delete', actor, canonical);
  requireAcl(tree, segments, 'Delete', actor, canonical);
  const drop: (readonly string[])[] = [];
  const collect = (segs: readonly string[]) => {
    // tree.md §2: permanent nodes cannot be deleted, not even with an ancestor.
    if (!isDevice(actor) && tree.describe(segs)?.scope === 'Permanent') {
      throw new TreeError(405, 'permanent-node', 'the subtree holds a permanent node', formatUri(segs));
    }
    drop.push(segs);
    for (const c of tree.node(segs)!.children) collect([...segs, c]);
  };
  collect(segments);
  for (const segs of drop) tree.deleteNode(segs);
  const parent = segments.slice(0, -1);
  const p = tree.node(parent)!;
  tree.setNode(parent, tree.touched(p, { children: p.children.filter((c) => c !== node.name) }));
}

/**
 * Copy (representation.md §6): leaf → leaf, needs Get on the source and Add/Replace on the target (no Copy
 * right exists); a target the description or format makes unwritable → 403.
 */
export async function copy(
  tree: ManagementTree,
  sourceUri: string,
  targetUri: string,
  actor: Actor,
): Promise<void> {
  const from = noQuery(tree, sourceUri, 'Copy');
  const fromUri = formatUri(from);
  const source = tree.requireNode(from, fromUri);
  if (isInterior(source)) throw new TreeError(405, 'copy-interior', 'Copy needs a leaf source', fromUri);
  requireAccessType(tree.describe(from), 'Get', actor, fromUri);
  requireAcl(tree, from, 'Get', actor, fromUri);
  const bytes = await leafValue(tree, from, source, actor);
  const input: NodeInput = { format: source.format, type: source.type, value: bytes };
  const to = noQuery(tree, targetUri, 'Copy');
  const target = tree.node(to);
  if (target !== undefined && isInterior(target))
    throw new TreeError(405, 'copy-interior', 'Copy needs a leaf target', targetUri);
  try {
    if (target === undefined) await add(tree, targetUri, input, actor);
    else await replace(tree, targetUri, input, actor);
  } catch (error) {
    if (error instanceof TreeError && [400, 405, 415].includes(error.status)) {
      throw new TreeError(
        403,
        'copy-refused',
        `target cannot take the copy (${error.message})`,
        formatUri(to),
      );
    }
    throw error;
  }
}

/** Creates the nodes a DDF makes the device create: named nodes occurring One/OneOrMore/OneOrN, with defaults. */
export async function define(
  tree: ManagementTree,
  descriptions: readonly NodeDescription[],
  parentUri: string,
) {
  const parent = tree.parse(parentUri).segments;
  for (let n = 1; n <= parent.length; n++) {
    const at = parent.slice(0, n);
    if (tree.node(at) === undefined)
      attach(tree, at.slice(0, -1), at[n - 1]!, recordOf(tree, at[n - 1]!, { format: 'node', type: '' }, ''));
  }
  for (const desc of descriptions) {
    tree.addDescription(parent, desc);
    instantiate(tree, parent, desc);
  }
}

function instantiate(tree: ManagementTree, parent: readonly string[], desc: NodeDescription): void {
  if (desc.name === undefined || !desc.occurrence.startsWith('One')) return;
  const segments = [...parent, desc.name];
  if (tree.node(segments) === undefined) {
    const value: ResolvedValue =
      desc.format === 'node'
        ? { format: 'node', type: desc.types[0] ?? '' }
        : { format: desc.format, type: desc.types[0] ?? 'text/plain', bytes: utf8(desc.defaultValue ?? '') };
    attach(tree, parent, desc.name, recordOf(tree, desc.name, value, desc.acl ?? ''));
  }
  for (const c of desc.children) instantiate(tree, segments, c);
}
