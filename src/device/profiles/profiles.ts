/**
 * The device models `--profile` picks from. Dynamic values are computed from the clock (battery drains, uptime
 * grows, counters advance, signal wanders) so two Gets a few seconds apart differ like on a real device, yet a
 * test with a manual clock sees fixed values.
 */
import { interior, leaf, type NodeDescription } from '../../tree/description.js';
import type { TreePlugin } from '../../tree/plugin.js';
import {
  bootDescriptions,
  factoryResetPlugin,
  firmwareUpdatePlugin,
  fumoDescription,
  rebootPlugin,
  uptimePlugin,
  uptimeSeconds,
} from './device-ops.js';
import type { DeviceProfile, ProfileContext } from './profile.js';

const getOnly = (name: string, format = 'chr', init: Parameters<typeof leaf>[1] = {}): NodeDescription =>
  leaf(name, { accessType: ['Get'], format: format as NodeDescription['format'], ...init });
const execNode = (name: string): NodeDescription =>
  leaf(name, { accessType: ['Exec', 'Get'], format: 'null', types: ['text/plain'] });
const value = (read: (ctx: ProfileContext) => string | Promise<string>, ctx: ProfileContext): TreePlugin => ({
  read: () => read(ctx),
});

/** A smooth pseudo-random walk from the clock: deterministic for a given time, bounded in [min, max]. */
function wander(now: number, periodMs: number, min: number, max: number): number {
  const t = now / periodMs;
  const s = (Math.sin(t) + Math.sin(t * 2.7 + 1.3) / 2 + 1.5) / 3; // 0..1
  return Math.round(min + s * (max - min));
}

/** Battery level: drains 1 % every 6 minutes of uptime, recharging from 15 % back to 100 %. */
async function batteryLevel(ctx: ProfileContext): Promise<number> {
  const minutes = (await uptimeSeconds(ctx)) / 60;
  const cycle = 85 * 6 + 60; // 85 % drained, then an hour on the charger
  const at = minutes % cycle;
  return at < 85 * 6 ? Math.round(100 - at / 6) : Math.round(15 + ((at - 85 * 6) / 60) * 85);
}

/** Executable nodes: any authenticated server may run them (tree.md §5: `*` = every server). */
const OPS_ACL = 'Exec=*&Get=*';

const OPS = (extra: readonly NodeDescription[] = []): NodeDescription =>
  interior('Ops', [execNode('Reboot'), execNode('FactoryReset'), ...extra], {
    accessType: ['Get'],
    scope: 'Permanent',
    acl: OPS_ACL,
  });

/** The default: the standard objects only, a generic simulator with uptime and reboot. */
export const genericProfile: DeviceProfile = {
  name: 'generic',
  summary: 'standard objects only (DevInfo, DevDetail, DMAcc, Inbox, ./Vendor) with uptime and ./Ops/Reboot',
  identity: {
    manufacturer: 'omadm',
    model: 'Simulator',
    dmVersion: '1.2',
    language: 'en-US',
    deviceType: 'simulator',
    oem: 'omadm',
    firmwareVersion: '1.0.0',
    softwareVersion: '0.1.0',
    hardwareVersion: '1.0',
  },
  devDetailExt: bootDescriptions(),
  subtrees: [
    {
      parentUri: '.',
      descriptions: [
        interior('Ops', [execNode('Reboot')], { accessType: ['Get'], scope: 'Permanent', acl: OPS_ACL }),
      ],
    },
  ],
  plugins: (ctx) => [
    { uri: './DevDetail/Ext/Uptime', plugin: uptimePlugin(ctx) },
    { uri: './Ops/Reboot', plugin: rebootPlugin(ctx) },
  ],
};

/** A smartphone: battery, radio, storage; reboot, factory reset, FUMO firmware update. */
export const phoneProfile: DeviceProfile = {
  name: 'phone',
  summary: 'smartphone: battery, radio signal, storage, reboot, factory reset, FUMO firmware update',
  identity: {
    manufacturer: 'Acme Mobile',
    model: 'AM-5G Pro',
    dmVersion: '1.2',
    language: 'en-US',
    deviceType: 'phone',
    oem: 'Acme Mobile',
    firmwareVersion: 'AM5G-1.4.2',
    softwareVersion: 'AcmeOS 12.1',
    hardwareVersion: 'rev C',
  },
  devDetailExt: [
    ...bootDescriptions(),
    interior('Battery', [getOnly('Level', 'int'), getOnly('Status')], { accessType: ['Get'] }),
    interior('Radio', [getOnly('SignalStrength', 'int'), getOnly('Technology'), getOnly('Operator')], {
      accessType: ['Get'],
    }),
    interior('Storage', [getOnly('Total', 'int', { defaultValue: '131072' }), getOnly('Free', 'int')], {
      accessType: ['Get'],
    }),
  ],
  subtrees: [{ parentUri: '.', descriptions: [OPS(), fumoDescription('FUMO')] }],
  plugins: (ctx) => [
    { uri: './DevDetail/Ext/Uptime', plugin: uptimePlugin(ctx) },
    { uri: './DevDetail/Ext/Battery/Level', plugin: value(async (c) => String(await batteryLevel(c)), ctx) },
    {
      uri: './DevDetail/Ext/Battery/Status',
      plugin: value(async (c) => ((await batteryLevel(c)) >= 100 ? 'Full' : 'Discharging'), ctx),
    },
    // dBm, between -110 (edge of coverage) and -60 (next to a mast)
    {
      uri: './DevDetail/Ext/Radio/SignalStrength',
      plugin: value((c) => String(wander(c.now(), 45_000, -110, -60)), ctx),
    },
    {
      uri: './DevDetail/Ext/Radio/Technology',
      plugin: value((c) => (wander(c.now(), 45_000, -110, -60) > -95 ? 'NR' : 'LTE'), ctx),
    },
    { uri: './DevDetail/Ext/Radio/Operator', plugin: value(() => 'Example Telecom', ctx) },
    {
      uri: './DevDetail/Ext/Storage/Free',
      plugin: value((c) => String(wander(c.now(), 600_000, 20_000, 90_000)), ctx),
    },
    { uri: './Ops/Reboot', plugin: rebootPlugin(ctx) },
    { uri: './Ops/FactoryReset', plugin: factoryResetPlugin(ctx, ['./Vendor'], './FUMO') },
    { uri: './FUMO/Update', plugin: firmwareUpdatePlugin(ctx, './FUMO') },
  ],
};

/** A home router: WAN counters, Wi-Fi clients, CPU load; reboot, factory reset, firmware update. */
export const routerProfile: DeviceProfile = {
  name: 'router',
  summary:
    'home router: WAN address and traffic counters, Wi-Fi clients, CPU load, reboot, factory reset, firmware update',
  identity: {
    manufacturer: 'NetGearish',
    model: 'HR-3000',
    dmVersion: '1.2',
    language: 'en-GB',
    deviceType: 'router',
    oem: 'NetGearish',
    firmwareVersion: 'HR3K-2.0.7',
    softwareVersion: 'RouterOS 5.3',
    hardwareVersion: 'v2',
  },
  devDetailExt: [
    ...bootDescriptions(),
    interior('WAN', [getOnly('IPAddress'), getOnly('RxBytes', 'int'), getOnly('TxBytes', 'int')], {
      accessType: ['Get'],
    }),
    interior(
      'WiFi',
      [
        leaf('SSID', { accessType: ['Get', 'Replace'], defaultValue: 'HR3000-home', acl: 'Get=*&Replace=*' }),
        getOnly('Clients', 'int'),
        getOnly('Channel', 'int'),
      ],
      {
        accessType: ['Get'],
      },
    ),
    getOnly('CpuLoad', 'int'),
  ],
  subtrees: [{ parentUri: '.', descriptions: [OPS(), fumoDescription('FUMO')] }],
  plugins: (ctx) => [
    { uri: './DevDetail/Ext/Uptime', plugin: uptimePlugin(ctx) },
    { uri: './DevDetail/Ext/WAN/IPAddress', plugin: value(() => '192.0.2.17', ctx) },
    // int is 32-bit signed (tree.md §4): counters wrap like the SNMP Counter32 they model, at 2^31.
    {
      uri: './DevDetail/Ext/WAN/RxBytes',
      plugin: value(async (c) => String(((await uptimeSeconds(c)) * 125_000) % 2 ** 31), ctx),
    },
    {
      uri: './DevDetail/Ext/WAN/TxBytes',
      plugin: value(async (c) => String(((await uptimeSeconds(c)) * 31_000) % 2 ** 31), ctx),
    },
    {
      uri: './DevDetail/Ext/WiFi/Clients',
      plugin: value((c) => String(wander(c.now(), 300_000, 0, 12)), ctx),
    },
    { uri: './DevDetail/Ext/WiFi/Channel', plugin: value(() => '6', ctx) },
    { uri: './DevDetail/Ext/CpuLoad', plugin: value((c) => String(wander(c.now(), 20_000, 2, 85)), ctx) },
    { uri: './Ops/Reboot', plugin: rebootPlugin(ctx) },
    { uri: './Ops/FactoryReset', plugin: factoryResetPlugin(ctx, ['./Vendor'], './FUMO') },
    { uri: './FUMO/Update', plugin: firmwareUpdatePlugin(ctx, './FUMO') },
  ],
};

/** A Windows-like PC: the MDM paths under ./Device/Vendor/MSFT (DeviceStatus, Reboot, RemoteWipe). */
export const windowsProfile: DeviceProfile = {
  name: 'windows',
  summary:
    'Windows-like PC: ./Device/Vendor/MSFT DeviceStatus (battery, OS), Reboot/RebootNow, RemoteWipe/doWipe, firmware update',
  identity: {
    manufacturer: 'Contoso',
    model: 'Surface-like 9',
    dmVersion: '1.3',
    language: 'en-US',
    deviceType: 'Laptop',
    oem: 'Contoso',
    firmwareVersion: 'UEFI 14.2.1',
    softwareVersion: '10.0.22631.3737',
    hardwareVersion: '1.0',
  },
  devDetailExt: bootDescriptions(),
  subtrees: [
    {
      parentUri: '.',
      descriptions: [
        interior(
          'Device',
          [
            interior(
              'Vendor',
              [
                interior(
                  'MSFT',
                  [
                    interior('Reboot', [execNode('RebootNow')], { accessType: ['Get'] }),
                    interior('RemoteWipe', [execNode('doWipe')], { accessType: ['Get'] }),
                    interior(
                      'DeviceStatus',
                      [
                        interior(
                          'Battery',
                          [
                            getOnly('Status', 'int'),
                            getOnly('EstimatedChargeRemaining', 'int'),
                            getOnly('EstimatedRuntime', 'int'),
                          ],
                          {
                            accessType: ['Get'],
                          },
                        ),
                        interior(
                          'OS',
                          [
                            getOnly('Edition', 'int', { defaultValue: '48' }),
                            getOnly('Mode', 'int', { defaultValue: '0' }),
                          ],
                          { accessType: ['Get'] },
                        ),
                        getOnly('DeviceGuardStatus', 'int', { defaultValue: '0' }),
                      ],
                      { accessType: ['Get'] },
                    ),
                  ],
                  { accessType: ['Get'] },
                ),
              ],
              { accessType: ['Get'], scope: 'Permanent' },
            ),
          ],
          { accessType: ['Get'], scope: 'Permanent', acl: OPS_ACL },
        ),
        fumoDescription('FUMO'),
      ],
    },
  ],
  plugins: (ctx) => {
    const battery = async (c: ProfileContext): Promise<number> => batteryLevel(c);
    return [
      { uri: './DevDetail/Ext/Uptime', plugin: uptimePlugin(ctx) },
      { uri: './Device/Vendor/MSFT/Reboot/RebootNow', plugin: rebootPlugin(ctx) },
      {
        uri: './Device/Vendor/MSFT/RemoteWipe/doWipe',
        plugin: factoryResetPlugin(ctx, ['./Vendor'], './FUMO'),
      },
      // Windows DeviceStatus/Battery/Status: 1 = discharging, 2 = on AC
      {
        uri: './Device/Vendor/MSFT/DeviceStatus/Battery/Status',
        plugin: value(async (c) => ((await battery(c)) >= 100 ? '2' : '1'), ctx),
      },
      {
        uri: './Device/Vendor/MSFT/DeviceStatus/Battery/EstimatedChargeRemaining',
        plugin: value(async (c) => String(await battery(c)), ctx),
      },
      {
        uri: './Device/Vendor/MSFT/DeviceStatus/Battery/EstimatedRuntime',
        plugin: value(async (c) => String((await battery(c)) * 6 * 60), ctx),
      },
      { uri: './FUMO/Update', plugin: firmwareUpdatePlugin(ctx, './FUMO') },
    ];
  },
};

export const PROFILES: Readonly<Record<string, DeviceProfile>> = {
  generic: genericProfile,
  phone: phoneProfile,
  router: routerProfile,
  windows: windowsProfile,
};

export function profileNamed(name: string): DeviceProfile | undefined {
  return Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
}
