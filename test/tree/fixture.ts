/** Shared helpers for the tree tests: a realistic device tree, command builders, a loopback-free setup. */
import { ManualClock } from '../../src/platform/clock.js';
import type { Command, Item, MetInf } from '../../src/syncml/model.js';
import {
  DEVICE,
  ManagementTree,
  TreeCommandExecutor,
  addDmAccount,
  installStandardObjects,
  type GenericAlert,
  type TreeOptions,
} from '../../src/tree/index.js';

export const START = Date.UTC(2026, 0, 2, 3, 4, 5);

export async function deviceTree(options: TreeOptions = {}) {
  const clock = new ManualClock(START);
  const alerts: GenericAlert[] = [];
  const tree = new ManagementTree({
    now: () => clock.now(),
    onGenericAlert: (a) => alerts.push(a),
    ...options,
  });
  await installStandardObjects(tree, {
    devInfo: { devId: 'IMEI:359000000000001', man: 'Acme', mod: 'R100', dmV: 'omadm-0.1', lang: 'en-US' },
    devDetail: {
      devTyp: 'router',
      oem: 'Acme OEM',
      fwV: '1.0.0',
      swV: '2.1.0',
      hwV: 'rev3',
      lrgObj: true,
      maxDepth: 10,
      maxTotLen: 200,
      maxSegLen: 32,
    },
  });
  for (const s of ['srvA', 'srvB']) {
    await addDmAccount(tree, {
      serverId: s,
      name: `Server ${s}`,
      addresses: [{ addr: `http://127.0.0.1:8080/${s}`, ports: [8080] }],
      authPref: 'DIGEST',
      auth: [
        {
          level: 'CLCRED',
          type: 'DIGEST',
          name: 'device',
          secret: `${s}-client-secret`,
          data: new Uint8Array([1, 2, 3]),
        },
        {
          level: 'SRVCRED',
          type: 'DIGEST',
          name: s,
          secret: `${s}-server-secret`,
          data: new Uint8Array([9, 9]),
        },
      ],
    });
  }
  // A scratch area every server may fully use (ACL on an undescribed interior).
  await tree.add('./Vendor', { format: 'node' }, DEVICE);
  await tree.replace('./Vendor?prop=ACL', { value: 'Add=*&Delete=*&Get=*&Replace=*&Exec=*' }, DEVICE);
  const executor = new TreeCommandExecutor(tree);
  let cmdId = 100;
  const run = (command: Command, serverId = 'srvA') => executor.execute(command, { serverId });
  return { tree, clock, alerts, executor, run, nextId: () => ++cmdId };
}

let ids = 0;
type ItemCmd = 'Add' | 'Replace' | 'Delete' | 'Get' | 'Copy' | 'Exec';

export function item(
  target: string,
  init: { format?: string; type?: string; data?: string; source?: string } = {},
): Item {
  const meta: MetInf = {
    ...(init.format === undefined ? {} : { format: init.format }),
    ...(init.type === undefined ? {} : { type: init.type }),
  };
  return {
    target: { locUri: target },
    ...(init.source === undefined ? {} : { source: { locUri: init.source } }),
    ...(Object.keys(meta).length === 0 ? {} : { meta }),
    ...(init.data === undefined ? {} : { data: { kind: 'text' as const, text: init.data } }),
  };
}

export function cmd(kind: ItemCmd, ...items: Item[]): Command {
  return { kind, cmdId: ++ids, items };
}

export const get = (uri: string) => cmd('Get', item(uri));
export const add = (uri: string, init: Parameters<typeof item>[1] = {}) => cmd('Add', item(uri, init));
export const replace = (uri: string, init: Parameters<typeof item>[1] = {}) =>
  cmd('Replace', item(uri, init));
export const del = (uri: string) => cmd('Delete', item(uri));

export function atomic(...commands: Command[]): Command {
  return { kind: 'Atomic', cmdId: ++ids, commands: commands as never };
}
export function sequence(...commands: Command[]): Command {
  return { kind: 'Sequence', cmdId: ++ids, commands: commands as never };
}

/** Text of the single Results item's Data. */
export function dataOf(outcome: { results?: readonly Item[] }): string | undefined {
  const d = outcome.results?.[0]?.data;
  return d?.kind === 'text' ? d.text : undefined;
}
