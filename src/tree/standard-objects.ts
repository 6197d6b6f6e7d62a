/**
 * Standard management objects (tree.md §7): DevInfo, DevDetail, Inbox as descriptions plus installers that
 * define them in a tree with the device's values, and the DevInfo Items of Package 1 (DG-SES-01).
 */
import type { Item } from '../syncml/model.js';
import { interior, leaf, type NodeDescription } from './description.js';
import { encodeB64, fromUtf8 } from './format.js';
import type { ManagementTree } from './management-tree.js';
import { DEVICE, isInterior } from './node-record.js';
import { escapeSegment, formatUri } from './uri.js';

export const MoType = {
  DMACC: 'urn:oma:mo:oma-dm-dmacc:1.0',
  DEVINFO: 'urn:oma:mo:oma-dm-devinfo:1.0',
  DEVDETAIL: 'urn:oma:mo:oma-dm-devdetail:1.0',
  INBOX: 'urn:oma:mo:oma-dm-inbox:1.0',
} as const;

const permanentLeaf = (name: string, init: Parameters<typeof leaf>[1] = {}): NodeDescription =>
  leaf(name, { accessType: ['Get'], scope: 'Permanent', ...init });
const ext = (): NodeDescription => interior('Ext', [], { accessType: ['Get'], scope: 'Permanent' });

export interface DevInfoValues {
  /** Globally unique, URN-formatted (`IMEI:…`). */
  readonly devId: string;
  readonly man: string;
  readonly mod: string;
  readonly dmV: string;
  /** RFC 1766 tag, e.g. `en-US`. */
  readonly lang: string;
}

/** ./DevInfo (tree.md §7.1): read-only, permanent; Ext is the vendors' place. */
export function devInfoDescription(values: DevInfoValues): NodeDescription {
  return interior(
    'DevInfo',
    [
      permanentLeaf('DevId', { defaultValue: values.devId }),
      permanentLeaf('Man', { defaultValue: values.man }),
      permanentLeaf('Mod', { defaultValue: values.mod }),
      permanentLeaf('DmV', { defaultValue: values.dmV }),
      permanentLeaf('Lang', { defaultValue: values.lang }),
      ext(),
    ],
    { scope: 'Permanent', types: [MoType.DEVINFO], acl: 'Get=*' },
  );
}

export interface DevDetailValues {
  readonly devTyp: string;
  readonly oem: string;
  readonly fwV: string;
  readonly swV: string;
  readonly hwV: string;
  readonly lrgObj: boolean;
  /** URI limits (tree.md §1), 0 = unlimited. */
  readonly maxDepth: number;
  readonly maxTotLen: number;
  readonly maxSegLen: number;
}

/** ./DevDetail (tree.md §7.2): the URI limits here are enforced by the tree on every command (→ 414). */
export function devDetailDescription(values: DevDetailValues): NodeDescription {
  const n = (name: string, v: number) => permanentLeaf(name, { format: 'int', defaultValue: String(v) });
  return interior(
    'DevDetail',
    [
      interior(
        'URI',
        [n('MaxDepth', values.maxDepth), n('MaxTotLen', values.maxTotLen), n('MaxSegLen', values.maxSegLen)],
        {
          scope: 'Permanent',
        },
      ),
      permanentLeaf('DevTyp', { defaultValue: values.devTyp }),
      permanentLeaf('OEM', { defaultValue: values.oem }),
      permanentLeaf('FwV', { defaultValue: values.fwV }),
      permanentLeaf('SwV', { defaultValue: values.swV }),
      permanentLeaf('HwV', { defaultValue: values.hwV }),
      permanentLeaf('LrgObj', { format: 'bool', defaultValue: values.lrgObj ? 'true' : 'false' }),
      ext(),
    ],
    { scope: 'Permanent', types: [MoType.DEVDETAIL], acl: 'Get=*' },
  );
}

/** ./Inbox (tree.md §7.4): Add only; Get on it or below → 405 (DG-OBJ-05). */
export function inboxDescription(): NodeDescription {
  return interior('Inbox', [interior(undefined, [], { accessType: ['Add'], occurrence: 'ZeroOrMore' })], {
    accessType: ['Add'],
    scope: 'Permanent',
    types: [MoType.INBOX],
    acl: 'Add=*',
  });
}

export interface StandardObjects {
  readonly devInfo: DevInfoValues;
  readonly devDetail: DevDetailValues;
  /** Also install ./Inbox (optional MO). Default true. */
  readonly inbox?: boolean;
}

/** Defines DevInfo, DevDetail and (by default) Inbox in the tree with the device's values. */
export async function installStandardObjects(tree: ManagementTree, objects: StandardObjects): Promise<void> {
  const descriptions = [devInfoDescription(objects.devInfo), devDetailDescription(objects.devDetail)];
  if (objects.inbox !== false) descriptions.push(inboxDescription());
  await tree.define(descriptions);
  // Values may have changed since a saved state (firmware update): the device's current ones win.
  const set = async (uri: string, value: string) => {
    if (tree.has(uri)) await tree.replace(uri, { value }, DEVICE);
  };
  const i = objects.devInfo;
  const d = objects.devDetail;
  for (const [k, v] of Object.entries({ DevId: i.devId, Man: i.man, Mod: i.mod, DmV: i.dmV, Lang: i.lang })) {
    await set(`./DevInfo/${k}`, v);
  }
  for (const [k, v] of Object.entries({ DevTyp: d.devTyp, OEM: d.oem, FwV: d.fwV, SwV: d.swV, HwV: d.hwV })) {
    await set(`./DevDetail/${k}`, v);
  }
  await set('./DevDetail/LrgObj', d.lrgObj ? 'true' : 'false');
  await set('./DevDetail/URI/MaxDepth', String(d.maxDepth));
  await set('./DevDetail/URI/MaxTotLen', String(d.maxTotLen));
  await set('./DevDetail/URI/MaxSegLen', String(d.maxSegLen));
}

/**
 * The Items of Package 1's DevInfo Replace (protocol.md §3, DG-SES-01): every node below ./DevInfo in
 * pre-order, Source LocURI + Meta Format/Type + Data; interior nodes carry Format node and their child list.
 */
export async function devInfoItems(tree: ManagementTree): Promise<Item[]> {
  const out: Item[] = [];
  const visit = async (segments: readonly string[]) => {
    const node = tree.node(segments);
    if (node === undefined) return;
    const source = { locUri: formatUri(segments) };
    if (segments.length > 1) {
      if (isInterior(node)) {
        out.push({
          source,
          meta: { format: 'node' },
          data: { kind: 'text', text: node.children.map(escapeSegment).join('/') },
        });
      } else {
        const bytes = (await tree.readBytes(source.locUri)) ?? new Uint8Array();
        const binary = node.format === 'bin';
        out.push({
          source,
          meta: { format: binary ? 'b64' : node.format, ...(node.type === '' ? {} : { type: node.type }) },
          data: { kind: 'text', text: binary ? encodeB64(bytes) : fromUtf8(bytes) },
        });
      }
    }
    for (const c of node.children) await visit([...segments, c]);
  };
  await visit(['DevInfo']);
  return out;
}
