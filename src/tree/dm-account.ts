/**
 * DM accounts (tree.md §7.3, security.md §7, §9): the DMAcc description in DM 1.2 form, a builder for
 * accounts, and the device runtime's view of them (server id, addresses, credentials, nonces).
 * Secrets (AAuthSecret, AAuthData) have no Get in their AccessType: servers get 405 (DG-OBJ-04).
 */
import { removeServerId } from './acl.js';
import { interior, leaf, type NodeDescription } from './description.js';
import type { ManagementTree } from './management-tree.js';
import { DEVICE } from './node-record.js';
import { MoType } from './standard-objects.js';
import { TreeError } from './tree-error.js';
import { formatUri } from './uri.js';

export type AuthLevel = 'CLCRED' | 'SRVCRED' | 'OBEX' | 'HTTP';

const RW = ['Add', 'Get', 'Replace'] as const;
const NODE_RW = ['Add', 'Delete', 'Get', 'Replace'] as const;
const SECRET = ['Add', 'Delete', 'Replace'] as const;

const OPTIONAL_RW = ['Add', 'Delete', 'Get', 'Replace'] as const;
const text = (name: string, occurrence: 'One' | 'ZeroOrOne' = 'One') =>
  leaf(name, { accessType: occurrence === 'One' ? RW : OPTIONAL_RW, occurrence });

/** ./DMAcc with its `<x>` accounts (DM 1.2 layout, tree.md §7.3). */
export function dmAccDescription(): NodeDescription {
  const account = interior(
    undefined,
    [
      text('AppID'),
      text('ServerID'),
      text('Name', 'ZeroOrOne'),
      text('PrefConRef', 'ZeroOrOne'),
      interior(
        'ToConRef',
        [interior(undefined, [text('ConRef')], { accessType: NODE_RW, occurrence: 'OneOrMore' })],
        {
          accessType: NODE_RW,
          occurrence: 'ZeroOrOne',
        },
      ),
      interior(
        'AppAddr',
        [
          interior(
            undefined,
            [
              text('Addr'),
              text('AddrType'),
              interior(
                'Port',
                [interior(undefined, [text('PortNbr')], { accessType: NODE_RW, occurrence: 'OneOrMore' })],
                {
                  accessType: NODE_RW,
                  occurrence: 'ZeroOrOne',
                },
              ),
            ],
            { accessType: NODE_RW, occurrence: 'OneOrMore' },
          ),
        ],
        { accessType: NODE_RW },
      ),
      text('AAuthPref', 'ZeroOrOne'),
      interior(
        'AppAuth',
        [
          interior(
            undefined,
            [
              text('AAuthLevel'),
              text('AAuthType'),
              text('AAuthName', 'ZeroOrOne'),
              leaf('AAuthSecret', { accessType: SECRET, occurrence: 'ZeroOrOne' }),
              // tree.md §7.3: AAuthData is bin (a nonce), never readable.
              leaf('AAuthData', { accessType: SECRET, occurrence: 'ZeroOrOne', format: 'bin', types: [] }),
            ],
            { accessType: NODE_RW, occurrence: 'OneOrMore' },
          ),
        ],
        { accessType: NODE_RW, occurrence: 'ZeroOrOne' },
      ),
      interior('Ext', [], { accessType: NODE_RW, occurrence: 'ZeroOrOne' }),
    ],
    { accessType: NODE_RW, occurrence: 'OneOrMore', types: [MoType.DMACC] },
  );
  return interior('DMAcc', [account], { accessType: ['Get'], scope: 'Permanent', acl: 'Get=*' });
}

export interface AppAuthInit {
  readonly level: AuthLevel;
  /** BASIC, DIGEST, HMAC, HTTP-BASIC, HTTP-DIGEST, … */
  readonly type: string;
  readonly name?: string;
  readonly secret?: string;
  /** Nonce bytes. */
  readonly data?: Uint8Array;
}

export interface DmAccountInit {
  /** Node name of the account; default: the ServerID when it is a plain name, else `Account<n>`. */
  readonly nodeName?: string;
  readonly serverId: string;
  readonly name?: string;
  readonly prefConRef?: string;
  readonly addresses: readonly {
    readonly addr: string;
    readonly addrType?: string;
    readonly ports?: readonly number[];
  }[];
  readonly authPref?: string;
  readonly auth?: readonly AppAuthInit[];
}

/**
 * Adds an account as the device (bootstrap). Defines ./DMAcc if needed. The account's ACL gives its server
 * Add, Delete, Get and Replace (tree.md §5.3, bootstrap). Returns the account URI.
 */
export async function addDmAccount(tree: ManagementTree, init: DmAccountInit): Promise<string> {
  if (!tree.has('./DMAcc')) await tree.define([dmAccDescription()]);
  if ((await findDmAccount(tree, init.serverId)) !== undefined) {
    throw new TreeError(418, 'account-exists', `a DM account for ServerID ${init.serverId} exists`);
  }
  if (init.addresses.length === 0)
    throw new TreeError(400, 'account-without-address', 'a DM account needs an address');
  let nodeName = init.nodeName ?? (/^[A-Za-z0-9._-]{1,32}$/.test(init.serverId) ? init.serverId : '');
  for (let n = 1; nodeName === '' || tree.has(formatUri(['DMAcc', nodeName])); n++) nodeName = `Account${n}`;
  const base = formatUri(['DMAcc', nodeName]);
  const node = (uri: string) => tree.add(uri, { format: 'node' }, DEVICE);
  const put = async (uri: string, value: string | Uint8Array | undefined, format = 'chr') => {
    if (value !== undefined) await tree.add(uri, { format, value }, DEVICE);
  };
  await tree.transaction(async () => {
    await tree.add(base, { format: 'node', type: MoType.DMACC }, DEVICE);
    const s = init.serverId;
    await tree.replace(`${base}?prop=ACL`, { value: `Add=${s}&Delete=${s}&Get=${s}&Replace=${s}` }, DEVICE);
    await put(`${base}/AppID`, 'w7');
    await put(`${base}/ServerID`, init.serverId);
    await put(`${base}/Name`, init.name);
    await put(`${base}/PrefConRef`, init.prefConRef);
    await node(`${base}/AppAddr`);
    for (const [i, a] of init.addresses.entries()) {
      const at = `${base}/AppAddr/${i + 1}`;
      await node(at);
      await put(`${at}/Addr`, a.addr);
      await put(`${at}/AddrType`, a.addrType ?? 'URI');
      if (a.ports !== undefined && a.ports.length > 0) {
        await node(`${at}/Port`);
        for (const [j, p] of a.ports.entries()) {
          await node(`${at}/Port/${j + 1}`);
          await put(`${at}/Port/${j + 1}/PortNbr`, String(p));
        }
      }
    }
    await put(`${base}/AAuthPref`, init.authPref);
    if (init.auth !== undefined && init.auth.length > 0) {
      await node(`${base}/AppAuth`);
      for (const a of init.auth) {
        const at = `${base}/AppAuth/${a.level}`;
        await node(at);
        await put(`${at}/AAuthLevel`, a.level);
        await put(`${at}/AAuthType`, a.type);
        await put(`${at}/AAuthName`, a.name);
        await put(`${at}/AAuthSecret`, a.secret);
        await put(`${at}/AAuthData`, a.data, 'bin');
      }
    }
  });
  await tree.save();
  return base;
}

export interface AppAuth {
  /** URI of the AppAuth/<x> node. */
  readonly uri: string;
  readonly level: string;
  readonly type: string;
  readonly name?: string;
  readonly secret?: string;
  /** Nonce bytes (AAuthData). */
  readonly data?: Uint8Array;
}

export interface DmAccount {
  readonly uri: string;
  readonly serverId: string;
  readonly name?: string;
  readonly prefConRef?: string;
  readonly addresses: readonly {
    readonly addr: string;
    readonly addrType: string;
    readonly ports: readonly number[];
  }[];
  readonly authPref?: string;
  readonly auth: readonly AppAuth[];
}

/** Every DM account in the tree, found by its MO identifier wherever it sits (tree.md §7). */
export async function listDmAccounts(tree: ManagementTree): Promise<DmAccount[]> {
  const out: DmAccount[] = [];
  for (const [uri, node] of [...tree.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (node.format === 'node' && node.type === MoType.DMACC) {
      const account = await readAccount(tree, uri);
      if (account !== undefined) out.push(account);
    }
  }
  return out;
}

export async function findDmAccount(tree: ManagementTree, serverId: string): Promise<DmAccount | undefined> {
  return (await listDmAccounts(tree)).find((a) => a.serverId === serverId);
}

async function readAccount(tree: ManagementTree, uri: string): Promise<DmAccount | undefined> {
  const str = (u: string) => tree.readText(u);
  const serverId = await str(`${uri}/ServerID`);
  if (serverId === undefined) return undefined;
  const kids = (u: string) => {
    const n = tree.node(tree.parse(u).segments);
    return n?.format === 'node' ? n.children.map((c) => `${u}/${formatUri([c]).slice(2)}`) : [];
  };
  const addresses = [];
  for (const at of kids(`${uri}/AppAddr`)) {
    const ports: number[] = [];
    for (const p of kids(`${at}/Port`)) {
      const v = Number(await str(`${p}/PortNbr`));
      if (Number.isInteger(v)) ports.push(v);
    }
    addresses.push({
      addr: (await str(`${at}/Addr`)) ?? '',
      addrType: (await str(`${at}/AddrType`)) ?? 'URI',
      ports,
    });
  }
  const auth: AppAuth[] = [];
  for (const at of kids(`${uri}/AppAuth`)) {
    const name = await str(`${at}/AAuthName`);
    const secret = await str(`${at}/AAuthSecret`);
    const data = await tree.readBytes(`${at}/AAuthData`);
    auth.push({
      uri: at,
      level: (await str(`${at}/AAuthLevel`)) ?? '',
      type: (await str(`${at}/AAuthType`)) ?? '',
      ...(name === undefined ? {} : { name }),
      ...(secret === undefined ? {} : { secret }),
      ...(data === undefined ? {} : { data }),
    });
  }
  const name = await str(`${uri}/Name`);
  const prefConRef = await str(`${uri}/PrefConRef`);
  const authPref = await str(`${uri}/AAuthPref`);
  return {
    uri,
    serverId,
    addresses,
    auth,
    ...(name === undefined ? {} : { name }),
    ...(prefConRef === undefined ? {} : { prefConRef }),
    ...(authPref === undefined ? {} : { authPref }),
  };
}

/** The credential set of an account for one direction (CLCRED: client → server, SRVCRED: server → client). */
export function credentialsFor(account: DmAccount, level: AuthLevel): AppAuth | undefined {
  return account.auth.find((a) => a.level === level);
}

/**
 * Stores a nonce into AAuthData of the account's credential set for `level` (security.md §7: CLCRED holds
 * the nonce the server gave us, SRVCRED the one we gave the server), creating the set if needed, and saves.
 */
export async function storeNonce(
  tree: ManagementTree,
  serverId: string,
  level: AuthLevel,
  nonce: Uint8Array,
): Promise<void> {
  const account = await findDmAccount(tree, serverId);
  if (account === undefined) throw new TreeError(404, 'no-account', `no DM account for ServerID ${serverId}`);
  let at = credentialsFor(account, level)?.uri;
  await tree.transaction(async () => {
    if (at === undefined) {
      if (!tree.has(`${account.uri}/AppAuth`))
        await tree.add(`${account.uri}/AppAuth`, { format: 'node' }, DEVICE);
      at = `${account.uri}/AppAuth/${level}`;
      await tree.add(at, { format: 'node' }, DEVICE);
      await tree.add(`${at}/AAuthLevel`, { value: level }, DEVICE);
    }
    const input = { format: 'bin', value: nonce };
    if (tree.has(`${at}/AAuthData`)) await tree.replace(`${at}/AAuthData`, input, DEVICE);
    else await tree.add(`${at}/AAuthData`, input, DEVICE);
  });
  await tree.save();
}

/**
 * Removes an account and its server id from every ACL (tree.md §5.3): commands left with no id disappear,
 * except on the root, where they become `*`.
 */
export async function removeDmAccount(tree: ManagementTree, serverId: string): Promise<void> {
  const account = await findDmAccount(tree, serverId);
  if (account === undefined) throw new TreeError(404, 'no-account', `no DM account for ServerID ${serverId}`);
  await tree.transaction(async () => {
    await tree.delete(account.uri, DEVICE);
    for (const [uri, node] of [...tree.entries()]) {
      if (node.acl === '') continue;
      const acl = removeServerId(node.acl, serverId, uri === '.');
      if (acl !== node.acl) tree.setNode(tree.parse(uri).segments, tree.touched(node, { acl }));
    }
  });
  await tree.save();
}
