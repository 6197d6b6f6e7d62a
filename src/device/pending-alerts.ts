/**
 * Generic Alerts (protocol.md §13.1) the device still owes a server, kept in the tree so they survive a
 * restart: an asynchronous Exec (firmware update) reports in one session or process and the alert goes out in
 * the next session's Package 1, until the server answers it with a 2xx Status.
 * Stored as JSON in a device-private leaf whose description allows servers nothing (405 for any command).
 */
import type { GenericAlert } from '../tree/plugin.js';
import { interior, leaf, type NodeDescription } from '../tree/description.js';
import type { ManagementTree } from '../tree/management-tree.js';
import type { Item } from '../syncml/model.js';
import { textData } from '../syncml/model.js';
import { setDeviceValue } from './device-values.js';

export const PENDING_ALERTS_URI = './DevDetail/Ext/Omadm/PendingAlerts';

/** `Omadm/PendingAlerts` under DevDetail/Ext: no AccessType at all, so servers cannot read or change it. */
export function pendingAlertsDescription(): NodeDescription {
  return interior('Omadm', [leaf('PendingAlerts', { accessType: [], defaultValue: '[]' })], {
    accessType: [],
    scope: 'Permanent',
  });
}

export interface PendingAlert extends GenericAlert {
  /** Stable id: correlates the server's Status with the stored alert. */
  readonly id: string;
}

export async function readPendingAlerts(tree: ManagementTree): Promise<PendingAlert[]> {
  const text = await tree.readText(PENDING_ALERTS_URI);
  if (text === undefined || text === '') return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as PendingAlert[]) : [];
  } catch {
    return []; // a damaged list is dropped rather than blocking every later session
  }
}

export async function writePendingAlerts(
  tree: ManagementTree,
  alerts: readonly PendingAlert[],
): Promise<void> {
  await setDeviceValue(tree, PENDING_ALERTS_URI, JSON.stringify(alerts));
}

/** The Alert 1226 Items for one report: Source = the executed node, Meta Type + Format (mandatory), Data. */
export function alertItems(alert: GenericAlert): Item[] {
  return [
    {
      source: { locUri: alert.sourceUri },
      meta: {
        type: alert.type,
        format: alert.format ?? (/^\d+$/.test(alert.data) ? 'int' : 'chr'),
        ...(alert.mark === undefined ? {} : { mark: alert.mark }),
      },
      data: textData(alert.data),
    },
  ];
}
