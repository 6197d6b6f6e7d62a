/** ACL property (tree.md §5): grammar, checks and server-id removal. Stored as validated text. */
import { TreeError } from './tree-error.js';

export const ACL_COMMANDS = ['Add', 'Delete', 'Exec', 'Get', 'Replace'] as const;
export type AclCommand = (typeof ACL_COMMANDS)[number];

export type AclEntries = ReadonlyMap<AclCommand, readonly string[]>;

function isAclCommand(text: string): text is AclCommand {
  return (ACL_COMMANDS as readonly string[]).includes(text);
}

// tree.md §5.1: server-id = "*" | printable chars except "=", "&", "*", "+", whitespace.
const SERVER_ID = /^[\x21-\x7e\u00a0-\uffff]+$/;

function malformed(acl: string, why: string, uri?: string): TreeError {
  return new TreeError(400, 'bad-acl', `malformed ACL "${acl}" (${why})`, uri);
}

/** Parses an ACL string; '' is the empty ACL (inherit). Throws TreeError 400 when malformed (DG-ACL-04). */
export function parseAcl(acl: string, uri?: string): AclEntries {
  const out = new Map<AclCommand, string[]>();
  if (acl === '') return out;
  for (const entry of acl.split('&')) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw malformed(acl, `entry "${entry}" has no "="`, uri);
    const command = entry.slice(0, eq);
    if (!isAclCommand(command))
      throw malformed(acl, `"${command}" is not Add, Delete, Exec, Get or Replace`, uri);
    const ids = entry.slice(eq + 1);
    // tree.md §5.3: a command with no server ids must not appear.
    if (ids === '') throw malformed(acl, `${command} has no server id`, uri);
    const list = out.get(command) ?? [];
    for (const id of ids.split('+')) {
      if (id !== '*' && (!SERVER_ID.test(id) || /[=&*+]/.test(id))) {
        throw malformed(acl, `bad server id "${id}"`, uri);
      }
      if (!list.includes(id)) list.push(id);
    }
    out.set(command, list);
  }
  return out;
}

/** Canonical text of parsed entries (commands in grammar order). */
export function formatAcl(entries: AclEntries): string {
  return ACL_COMMANDS.filter((c) => (entries.get(c) ?? []).length > 0)
    .map((c) => `${c}=${(entries.get(c) ?? []).join('+')}`)
    .join('&');
}

/** Whether an ACL grants `command` to `serverId` (`*` grants it to every server). */
export function aclGrants(acl: string, command: AclCommand, serverId: string): boolean {
  const ids = parseAcl(acl).get(command) ?? [];
  return ids.includes('*') || ids.includes(serverId);
}

/**
 * Removes a server id from an ACL (tree.md §5.3, account removal): commands left without ids disappear;
 * `keepCommands` (for the root) become `*` instead.
 */
export function removeServerId(acl: string, serverId: string, keepCommands = false): string {
  const entries = parseAcl(acl);
  const out = new Map<AclCommand, string[]>();
  for (const [command, ids] of entries) {
    const left = ids.filter((id) => id !== serverId);
    if (left.length > 0) out.set(command, left);
    else if (keepCommands) out.set(command, ['*']);
  }
  return formatAcl(out);
}
