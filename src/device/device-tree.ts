/**
 * Builds a device's management tree: the standard objects (DevInfo with DevId = the device id, DevDetail,
 * Inbox), the DMAcc account for the configured server, `./Vendor` (anything a server wants to put there), and
 * the profile's subtrees and plugins; then restores the saved state over it.
 *
 * Order matters: the saved state is attached first, then descriptions are defined (they only create nodes that
 * are missing), so values the device changed itself (FwV after a firmware update) survive a restart.
 */
import { interior, type NodeDescription } from '../tree/description.js';
import { ManagementTree } from '../tree/management-tree.js';
import type { GenericAlert } from '../tree/plugin.js';
import { installStandardObjects } from '../tree/standard-objects.js';
import { dmAccDescription } from '../tree/dm-account.js';
import type { TreeStore } from '../tree/tree-store.js';
import { ensureAccount, type AccountSettings } from './dm-account.js';
import { pendingAlertsDescription } from './pending-alerts.js';
import { BOOT_COUNT_URI, recordBoot } from './profiles/device-ops.js';
import type { DeviceProfile, ProfileContext } from './profiles/profile.js';

/** `./Vendor`: a dynamic subtree every server may populate (no described children, so any Add is placed). */
export function vendorDescription(): NodeDescription {
  return interior('Vendor', [], {
    accessType: ['Add', 'Get', 'Replace', 'Delete'],
    scope: 'Permanent',
    acl: 'Add=*&Delete=*&Get=*&Replace=*',
  });
}

/** DevDetail URI limits this device announces (tree.md §1) and enforces. */
export const URI_LIMITS = { maxDepth: 16, maxTotLen: 1024, maxSegLen: 64 } as const;

export interface DeviceTreeOptions {
  readonly deviceId: string;
  readonly account: AccountSettings;
  readonly profile: DeviceProfile;
  readonly store: TreeStore;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly onGenericAlert: (alert: GenericAlert) => void;
}

export async function buildDeviceTree(options: DeviceTreeOptions): Promise<ManagementTree> {
  const { profile } = options;
  const tree = new ManagementTree({ now: options.now, onGenericAlert: options.onGenericAlert });
  await tree.attachStore(options.store);
  const stored = async (uri: string, fallback: string): Promise<string> => {
    const value = tree.has(uri) ? await tree.readText(uri) : undefined;
    return value === undefined || value === '' ? fallback : value;
  };
  const id = profile.identity;
  await installStandardObjects(tree, {
    devInfo: {
      devId: options.deviceId,
      man: id.manufacturer,
      mod: id.model,
      dmV: id.dmVersion,
      lang: id.language,
    },
    devDetail: {
      devTyp: id.deviceType,
      oem: id.oem,
      // Versions change when the device updates itself: the stored ones win over the model's defaults.
      fwV: await stored('./DevDetail/FwV', id.firmwareVersion),
      swV: await stored('./DevDetail/SwV', id.softwareVersion),
      hwV: id.hardwareVersion,
      lrgObj: true,
      ...URI_LIMITS,
    },
  });
  await tree.define([...profile.devDetailExt, pendingAlertsDescription()], './DevDetail/Ext');
  await tree.define([dmAccDescription(), vendorDescription()]);
  for (const subtree of profile.subtrees) await tree.define(subtree.descriptions, subtree.parentUri);
  const context: ProfileContext = { tree, now: options.now, log: options.log };
  for (const mount of profile.plugins(context)) tree.mount(mount.uri, mount.plugin);
  await ensureAccount(tree, options.account);
  // The first start of a device is its first boot (uptime counts from here).
  if ((await tree.readText(BOOT_COUNT_URI)) === '0') await recordBoot(context);
  await tree.save();
  return tree;
}
