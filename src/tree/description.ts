/**
 * Node descriptions: what a DDF says about a node (tree.md §8). The tree keeps them as a tree of
 * NodeDescription whose `name` is undefined for an unnamed `<x>` placeholder. Nodes without a
 * description (created by servers under undescribed interiors) are dynamic and allow every command.
 */
import type { Format } from '../syncml/constants.js';

export const ACCESS_RIGHTS = ['Add', 'Copy', 'Delete', 'Exec', 'Get', 'Replace'] as const;
export type AccessRight = (typeof ACCESS_RIGHTS)[number];

export const OCCURRENCES = ['One', 'ZeroOrOne', 'ZeroOrMore', 'OneOrMore', 'ZeroOrN', 'OneOrN'] as const;
export type Occurrence = (typeof OCCURRENCES)[number];

export interface NodeDescription {
  /** Node name; undefined for an unnamed node (`<x>`, name chosen at creation). */
  readonly name?: string;
  readonly accessType: readonly AccessRight[];
  readonly format: Format;
  readonly occurrence: Occurrence;
  /** N of ZeroOrN / OneOrN. */
  readonly maxOccurrence?: number;
  readonly scope: 'Permanent' | 'Dynamic';
  readonly defaultValue?: string;
  readonly description?: string;
  readonly title?: string;
  /** Leaf: accepted MIME types (first = default). Interior: one DDFName (MO identifier), possibly ''. */
  readonly types: readonly string[];
  readonly caseSense?: 'CS' | 'CIS';
  /** Initial ACL from RTProperties (a device default), '' or undefined = inherit. */
  readonly acl?: string;
  readonly children: readonly NodeDescription[];
  /**
   * Set on descriptions the tree makes up (the root, ancestors of a subtree defined by Path): they name a
   * node but restrict nothing, so servers may add, replace and delete around them as if undescribed.
   */
  readonly open?: boolean;
}

export type DescriptionInit = Partial<Omit<NodeDescription, 'format' | 'children'>> & {
  readonly format?: Format;
  readonly children?: readonly NodeDescription[];
};

/** Builds a leaf description; defaults: Get+Replace, chr, One, Dynamic, text/plain. */
export function leaf(name: string | undefined, init: DescriptionInit = {}): NodeDescription {
  const { children: _ignored, ...rest } = init;
  return {
    accessType: ['Get', 'Replace'],
    format: 'chr',
    occurrence: 'One',
    scope: 'Dynamic',
    types: ['text/plain'],
    ...rest,
    ...(name === undefined ? {} : { name }),
    children: [],
  };
}

/** Builds an interior description; defaults: Get, node, One, Dynamic, no MO identifier. */
export function interior(
  name: string | undefined,
  children: readonly NodeDescription[],
  init: DescriptionInit = {},
): NodeDescription {
  return {
    accessType: ['Get'],
    occurrence: 'One',
    scope: 'Dynamic',
    types: [],
    ...init,
    format: 'node',
    ...(name === undefined ? {} : { name }),
    children,
  };
}

/** The child description matching `name`: a named one first, else the unnamed `<x>` one. */
export function childDescription(
  parent: NodeDescription | undefined,
  name: string,
): NodeDescription | undefined {
  if (parent === undefined) return undefined;
  const named = parent.children.find((c) => c.name !== undefined && sameName(c, name));
  return named ?? parent.children.find((c) => c.name === undefined);
}

function sameName(desc: NodeDescription, name: string): boolean {
  return desc.caseSense === 'CIS' ? desc.name?.toLowerCase() === name.toLowerCase() : desc.name === name;
}

/** Whether a description allows a command (no description = dynamic node, everything allowed). */
export function allows(desc: NodeDescription | undefined, right: AccessRight): boolean {
  return desc === undefined || desc.open === true || desc.accessType.includes(right);
}

/** Merges `child` into `parent`'s children (replacing a same-named one; the more local definition wins). */
export function withChild(parent: NodeDescription, child: NodeDescription): NodeDescription {
  const others = parent.children.filter((c) => c.name !== child.name);
  const existing = parent.children.find((c) => c.name === child.name);
  const merged = existing === undefined ? child : mergeDescriptions(existing, child);
  return { ...parent, children: [...others, merged] };
}

function mergeDescriptions(base: NodeDescription, local: NodeDescription): NodeDescription {
  let out: NodeDescription = { ...local, children: base.children };
  for (const c of local.children) out = withChild(out, c);
  return out;
}
