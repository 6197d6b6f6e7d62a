/**
 * Behaviour shared by the profiles: boot bookkeeping (uptime), reboot, factory reset and a FUMO-style
 * firmware update that answers 202 and reports its outcome with a Generic Alert (protocol.md §11, §13.1;
 * DG-CMD-13). State lives in device-owned leaves so it survives a restart of the simulator.
 */
import { interior, leaf, type NodeDescription } from '../../tree/description.js';
import type { ManagementTree } from '../../tree/management-tree.js';
import { DEVICE } from '../../tree/node-record.js';
import type { ExecRequest, TreePlugin } from '../../tree/plugin.js';
import { escapeSegment } from '../../tree/uri.js';
import { setDeviceValue } from '../device-values.js';
import type { ProfileContext } from './profile.js';

export const LAST_BOOT_URI = './DevDetail/Ext/Boot/LastBoot';
export const BOOT_COUNT_URI = './DevDetail/Ext/Boot/Count';

/** Generic Alert type of a FUMO update result (OMA FUMO; many clients send it without a prefix). */
export const FUMO_UPDATE_ALERT = 'org.openmobilealliance.dm.firmwareupdate.update';
/** FUMO result codes used here: 200 successful, 402 corrupted (empty) package. */
export const FUMO_RESULT = { SUCCESSFUL: '200', CORRUPTED_PACKAGE: '402' } as const;

const getOnly = (name: string, init: Parameters<typeof leaf>[1] = {}): NodeDescription =>
  leaf(name, { accessType: ['Get'], ...init });

/** `Boot/{LastBoot,Count}` under DevDetail/Ext plus an `Uptime` leaf (seconds, computed). */
export function bootDescriptions(): NodeDescription[] {
  return [
    interior(
      'Boot',
      [
        getOnly('LastBoot', { format: 'int', defaultValue: '0' }),
        getOnly('Count', { format: 'int', defaultValue: '0' }),
      ],
      {
        accessType: ['Get'],
      },
    ),
    getOnly('Uptime', { format: 'int', defaultValue: '0' }),
  ];
}

/** Seconds since the last (simulated) boot; the first start of a device counts as a boot. */
export async function uptimeSeconds(context: ProfileContext): Promise<number> {
  const last = Number((await context.tree.readText(LAST_BOOT_URI)) ?? '0');
  return Math.max(0, Math.floor((context.now() - last * 1000) / 1000));
}

export async function recordBoot(context: ProfileContext): Promise<void> {
  const count = Number((await context.tree.readText(BOOT_COUNT_URI)) ?? '0');
  await setDeviceValue(context.tree, LAST_BOOT_URI, String(Math.floor(context.now() / 1000)));
  await setDeviceValue(context.tree, BOOT_COUNT_URI, String(count + 1));
}

/** Plugin for an `Uptime` leaf. */
export function uptimePlugin(context: ProfileContext): TreePlugin {
  return { read: async () => String(await uptimeSeconds(context)) };
}

/** Reboot: records a new boot (uptime restarts, boot count +1) and answers 200. */
export function rebootPlugin(context: ProfileContext): TreePlugin {
  return {
    exec: async (request) => {
      context.log(`exec ${request.uri}: rebooting`);
      await recordBoot(context);
      return 200;
    },
  };
}

/**
 * Factory reset: removes everything servers created under `wipeUris` children, resets the firmware state
 * and reboots. The DM account stays (it came from provisioning, as on real devices).
 */
export function factoryResetPlugin(
  context: ProfileContext,
  wipeUris: readonly string[],
  fumoUri?: string,
): TreePlugin {
  return {
    exec: async (request) => {
      context.log(`exec ${request.uri}: factory reset`);
      for (const uri of wipeUris) await wipeChildren(context.tree, uri);
      if (fumoUri !== undefined) {
        await setDeviceValue(context.tree, `${fumoUri}/Update/PkgData`, new Uint8Array(), 'bin');
        await setDeviceValue(context.tree, `${fumoUri}/State`, '10');
      }
      await recordBoot(context);
      return 200;
    },
  };
}

async function wipeChildren(tree: ManagementTree, uri: string): Promise<void> {
  const node = tree.node(tree.parse(uri).segments);
  for (const child of node?.children ?? []) await tree.delete(`${uri}/${escapeSegment(child)}`, DEVICE);
}

/** FUMO-style subtree (`PkgName`, `PkgVersion`, `Update/PkgData`, Exec on `Update`, `State`). */
export function fumoDescription(name: string): NodeDescription {
  return interior(
    name,
    [
      leaf('PkgName', { accessType: ['Get', 'Replace'] }),
      leaf('PkgVersion', { accessType: ['Get', 'Replace'] }),
      interior(
        'Update',
        [leaf('PkgData', { accessType: ['Replace'], format: 'bin', types: ['application/octet-stream'] })],
        {
          accessType: ['Get', 'Exec'],
        },
      ),
      getOnly('State', { format: 'int', defaultValue: '10' }),
    ],
    // any authenticated server may stage and run an update (tree.md §5.2)
    {
      accessType: ['Get'],
      scope: 'Permanent',
      types: ['urn:oma:mo:oma-fumo:1.0'],
      acl: 'Exec=*&Get=*&Replace=*',
    },
  );
}

/**
 * Exec on `<fumo>/Update`: 202 (accepted, protocol.md §11 long-running Exec), then the device "installs" the
 * package: FwV becomes PkgVersion, the device reboots, and the outcome goes to the server as a Generic Alert
 * echoing the Exec's Correlator — sent in the next session's Package 1.
 */
export function firmwareUpdatePlugin(context: ProfileContext, fumoUri: string): TreePlugin {
  return {
    exec: async (request: ExecRequest) => {
      if (request.path !== '') return 405;
      const tree = context.tree;
      const data = (await tree.readBytes(`${fumoUri}/Update/PkgData`)) ?? new Uint8Array();
      const version = (await tree.readText(`${fumoUri}/PkgVersion`)) ?? '';
      await setDeviceValue(tree, `${fumoUri}/State`, '40'); // update progressing
      let result: string;
      if (data.length === 0) {
        result = FUMO_RESULT.CORRUPTED_PACKAGE;
        context.log(`exec ${request.uri}: no firmware package, update failed (${result})`);
      } else {
        if (version !== '') await setDeviceValue(tree, './DevDetail/FwV', version);
        await setDeviceValue(tree, `${fumoUri}/Update/PkgData`, new Uint8Array(), 'bin');
        await recordBoot(context);
        result = FUMO_RESULT.SUCCESSFUL;
        context.log(
          `exec ${request.uri}: installed ${data.length} bytes, firmware ${version === '' ? 'unchanged' : version}`,
        );
      }
      await setDeviceValue(tree, `${fumoUri}/State`, '10');
      request.report({
        type: FUMO_UPDATE_ALERT,
        format: 'int',
        data: result,
        mark: result === FUMO_RESULT.SUCCESSFUL ? 'informational' : 'critical',
      });
      return 202;
    },
  };
}
