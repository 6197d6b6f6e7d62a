/** The device writing its own leaves (DEVICE actor: no ACL or AccessType checks), creating them when missing. */
import type { ManagementTree } from '../tree/management-tree.js';
import { DEVICE } from '../tree/node-record.js';

export async function setDeviceValue(
  tree: ManagementTree,
  uri: string,
  value: string | Uint8Array,
  format?: string,
): Promise<void> {
  const input = { value, ...(format === undefined ? {} : { format }) };
  if (!tree.has(uri)) return tree.add(uri, input, DEVICE);
  if (typeof value === 'string' && (await tree.readText(uri)) === value) return;
  await tree.replace(uri, input, DEVICE);
}
