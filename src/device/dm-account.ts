/**
 * The device's DM account settings over the tree's DMAcc helpers (tree.md §7.3, security.md §7): the command
 * line gives ServerID, address and secrets; the tree keeps them with both nonces (CLCRED AAuthData = the nonce
 * the server gave us, SRVCRED AAuthData = the one we gave the server). A server may change the account during
 * a session (Replace Addr/AAuthSecret); the runtime reads the stored account before every session.
 */
import type { AuthName } from '../syncml/constants.js';
import type { NonceDirection, NonceStore } from '../security/nonce.js';
import { b64, fromB64 } from '../security/digest.js';
import {
  addDmAccount,
  credentialsFor,
  findDmAccount,
  storeNonce,
  type AuthLevel,
} from '../tree/dm-account.js';
import type { ManagementTree } from '../tree/management-tree.js';
import { DEVICE } from '../tree/node-record.js';

/** One server relationship as the command line (or a provisioning step) gives it. */
export interface AccountSettings {
  /** DMAcc ServerID: ACL server id, Package 0 server identifier. */
  readonly serverId: string;
  /** DMAcc AppAddr/<x>/Addr: where Package 1 goes. */
  readonly serverUrl: string;
  /** Client credentials (CLCRED). */
  readonly auth: AuthName;
  readonly username: string;
  readonly password: string;
  /** Server credentials (SRVCRED); AAuthName defaults to the ServerID (security.md §8.2 caution). */
  readonly serverUsername?: string;
  readonly serverPassword?: string;
}

const AAUTH_TYPE: Readonly<Record<AuthName, string>> = { basic: 'BASIC', md5: 'DIGEST', hmac: 'HMAC' };
const AUTH_NAME: Readonly<Record<string, AuthName>> = { BASIC: 'basic', DIGEST: 'md5', HMAC: 'hmac' };

/**
 * Creates the account for `settings.serverId`, or brings an existing one in line with the settings given now
 * (address, types, names, secrets). Stored nonces are kept, so the next session needs no new challenge.
 */
export async function ensureAccount(tree: ManagementTree, settings: AccountSettings): Promise<string> {
  const existing = await findDmAccount(tree, settings.serverId);
  const type = AAUTH_TYPE[settings.auth];
  const serverName = settings.serverUsername ?? settings.serverId;
  if (existing === undefined) {
    return addDmAccount(tree, {
      serverId: settings.serverId,
      name: settings.serverId,
      addresses: [{ addr: settings.serverUrl }],
      authPref: type,
      auth: [
        { level: 'CLCRED', type, name: settings.username, secret: settings.password },
        ...(settings.serverPassword === undefined
          ? []
          : [{ level: 'SRVCRED' as const, type, name: serverName, secret: settings.serverPassword }]),
      ],
    });
  }
  const set = async (uri: string, value: string): Promise<void> => {
    if (!tree.has(uri)) await tree.add(uri, { value }, DEVICE);
    else if ((await tree.readText(uri)) !== value) await tree.replace(uri, { value }, DEVICE);
  };
  const addr = existing.addresses.length > 0 ? `${existing.uri}/AppAddr/1/Addr` : undefined;
  if (addr !== undefined && tree.has(addr)) await set(addr, settings.serverUrl);
  else await tree.add(`${existing.uri}/AppAddr/1/Addr`, { value: settings.serverUrl }, DEVICE);
  await set(`${existing.uri}/AAuthPref`, type);
  const sets: [AuthLevel, string, string | undefined][] = [
    ['CLCRED', settings.username, settings.password],
    ['SRVCRED', serverName, settings.serverPassword],
  ];
  for (const [level, name, secret] of sets) {
    if (secret === undefined) continue;
    const at = credentialsFor(existing, level)?.uri ?? `${existing.uri}/AppAuth/${level}`;
    await set(`${at}/AAuthLevel`, level);
    await set(`${at}/AAuthType`, type);
    await set(`${at}/AAuthName`, name);
    await set(`${at}/AAuthSecret`, secret);
  }
  await tree.save();
  return existing.uri;
}

/** The account as stored now (what the next session uses), or undefined when it is unusable. */
export async function readSettings(
  tree: ManagementTree,
  serverId: string,
): Promise<AccountSettings | undefined> {
  const account = await findDmAccount(tree, serverId);
  if (account === undefined) return undefined;
  const client = credentialsFor(account, 'CLCRED');
  const server = credentialsFor(account, 'SRVCRED');
  const serverUrl = account.addresses[0]?.addr;
  const auth = AUTH_NAME[(client?.type ?? account.authPref ?? '').toUpperCase()];
  if (
    serverUrl === undefined ||
    auth === undefined ||
    client?.name === undefined ||
    client.secret === undefined
  )
    return undefined;
  return {
    serverId,
    serverUrl,
    auth,
    username: client.name,
    password: client.secret,
    ...(server?.name === undefined ? {} : { serverUsername: server.name }),
    ...(server?.secret === undefined ? {} : { serverPassword: server.secret }),
  };
}

const LEVEL: Readonly<Record<NonceDirection, AuthLevel>> = {
  'client-to-server': 'CLCRED',
  'server-to-client': 'SRVCRED',
};

/**
 * The engine's NonceStore over the DMAcc AAuthData leaves: Base64 text in the engine, raw bytes (Format bin) in
 * the tree. `account` is the ServerID.
 */
export class TreeNonceStore implements NonceStore {
  readonly #tree: ManagementTree;
  constructor(tree: ManagementTree) {
    this.#tree = tree;
  }

  async get(account: string, direction: NonceDirection): Promise<string | undefined> {
    const found = await findDmAccount(this.#tree, account);
    const data = found === undefined ? undefined : credentialsFor(found, LEVEL[direction])?.data;
    return data === undefined || data.length === 0 ? undefined : b64(data);
  }

  async set(account: string, direction: NonceDirection, nonce: string): Promise<void> {
    await storeNonce(this.#tree, account, LEVEL[direction], fromB64(nonce));
  }
}
