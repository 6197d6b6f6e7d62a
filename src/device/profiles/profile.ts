/**
 * A device profile: a realistic model of a device — its identity (DevInfo/DevDetail values), extra subtrees
 * (a DDF) and the plugins behind dynamic leaves and executable nodes. Plugins follow the tree's contract
 * (tiny callbacks; URI, ACL, AccessType and Format are checked by the core before they run).
 */
import type { NodeDescription } from '../../tree/description.js';
import type { ManagementTree } from '../../tree/management-tree.js';
import type { TreePlugin } from '../../tree/plugin.js';

/** DevInfo / DevDetail values of a model (tree.md §7.1–7.2); DevId comes from the command line. */
export interface DeviceIdentity {
  readonly manufacturer: string;
  readonly model: string;
  /** DevInfo/DmV: the DM client version string. */
  readonly dmVersion: string;
  readonly language: string;
  readonly deviceType: string;
  readonly oem: string;
  readonly firmwareVersion: string;
  readonly softwareVersion: string;
  readonly hardwareVersion: string;
}

export interface ProfileContext {
  readonly tree: ManagementTree;
  /** ms since the epoch (the runtime's Clock). */
  readonly now: () => number;
  /** Device-side log line (the CLI prints it in verbose mode). */
  readonly log: (line: string) => void;
}

export interface ProfileMount {
  readonly uri: string;
  readonly plugin: TreePlugin;
}

export interface DeviceProfile {
  readonly name: string;
  readonly summary: string;
  readonly identity: DeviceIdentity;
  /** Extra nodes under ./DevDetail/Ext. */
  readonly devDetailExt: readonly NodeDescription[];
  /** Other subtrees: descriptions to define below `parentUri`. */
  readonly subtrees: readonly {
    readonly parentUri: string;
    readonly descriptions: readonly NodeDescription[];
  }[];
  /** Plugins to mount, built once the tree exists (they may keep device state in it). */
  plugins(context: ProfileContext): readonly ProfileMount[];
}
