/** Permission checks, in one place (libdmclient's model): ACL → 425, AccessType/scope → 405. */
import { aclGrants, type AclCommand } from './acl.js';
import { allows, type AccessRight, type NodeDescription } from './description.js';
import type { ManagementTree } from './management-tree.js';
import { isDevice, type Actor } from './node-record.js';
import { TreeError } from './tree-error.js';

/** Throws 425 unless the effective ACL of the node grants `command` to the actor (tree.md §5.2–5.3). */
export function requireAcl(
  tree: ManagementTree,
  segments: readonly string[],
  command: AclCommand,
  actor: Actor,
  uri: string,
): void {
  if (isDevice(actor)) return;
  if (!aclGrants(tree.effectiveAcl(segments), command, actor.serverId)) {
    throw new TreeError(
      425,
      'permission-denied',
      `ACL does not grant ${command} to server "${actor.serverId}"`,
      uri,
    );
  }
}

export function hasAcl(
  tree: ManagementTree,
  segments: readonly string[],
  command: AclCommand,
  actor: Actor,
): boolean {
  return isDevice(actor) || aclGrants(tree.effectiveAcl(segments), command, actor.serverId);
}

/** Throws 405 unless the node's description allows `right` (tree.md §2: AccessType, independent of ACLs). */
export function requireAccessType(
  desc: NodeDescription | undefined,
  right: AccessRight,
  actor: Actor,
  uri: string,
): void {
  if (isDevice(actor)) return;
  if (!allows(desc, right)) {
    throw new TreeError(
      405,
      'command-not-allowed',
      `the device description does not allow ${right} on this node`,
      uri,
    );
  }
}

/** Whether a server (not the device) may read a node's value: AccessType Get and ACL Get. */
export function mayGet(tree: ManagementTree, segments: readonly string[], actor: Actor): boolean {
  if (isDevice(actor)) return true;
  return allows(tree.describe(segments), 'Get') && hasAcl(tree, segments, 'Get', actor);
}
