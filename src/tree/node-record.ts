/** One node of the runtime tree: readonly data, replaced (never mutated) on change. */
import type { Format } from '../syncml/constants.js';

export interface NodeRecord {
  /** Decoded node name ('' for the root). */
  readonly name: string;
  /** 'node' for interior nodes. */
  readonly format: Format;
  /** Leaf: MIME type. Interior: MO identifier, '' if none. */
  readonly type: string;
  /** Own ACL, '' = inherited (tree.md §5.2). */
  readonly acl: string;
  readonly title?: string;
  /** Last change of value or properties, ms since the epoch. */
  readonly tstamp: number;
  /** 16-bit change counter (tree.md §3). */
  readonly verNo: number;
  /** Leaf value (raw bytes: decoded for bin). Interior nodes have none. */
  readonly value?: Uint8Array;
  /** Interior: child names in creation order. */
  readonly children: readonly string[];
}

export function isInterior(node: NodeRecord): boolean {
  return node.format === 'node';
}

/** Who issues a command: an authenticated server (ACL-checked) or the device itself (trusted). */
export type Actor = { readonly serverId: string } | { readonly device: true };

/** The device acting on its own tree: no ACL or AccessType checks (standard objects, nonces, plugins). */
export const DEVICE: Actor = { device: true };

export function isDevice(actor: Actor): actor is { readonly device: true } {
  return 'device' in actor;
}
