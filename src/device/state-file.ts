/**
 * Where a device keeps its state between runs: the tree (with the DM account and both nonces) in one JSON
 * file. Default `$XDG_DATA_HOME/omadm/devices/<id>.json`, else `~/.local/share/omadm/devices/<id>.json`.
 * The file holds the account's secrets, so its folder is created 0700 and the file kept 0600.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { JsonFileTreeStore } from '../tree/json-file-store.js';
import type { TreeSnapshot, TreeStore } from '../tree/tree-store.js';

/**
 * A device id as a file name, injective: letters, digits, `.` and `-` stay; every other UTF-8 byte (and `_`)
 * becomes `_HH`; a leading `.` is escaped too, so `IMEI:35…` → `IMEI_3A35…` and no name is hidden or `..`.
 */
export function fileSafeId(id: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(id)) {
    const ch = String.fromCharCode(byte);
    const keep = /[A-Za-z0-9-]/.test(ch) || (ch === '.' && out !== '');
    out += keep ? ch : `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '' ? '_' : out;
}

export function defaultStatePath(deviceId: string, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg !== undefined && xdg !== '' ? xdg : join(env['HOME'] ?? homedir(), '.local', 'share');
  return join(base, 'omadm', 'devices', `${fileSafeId(deviceId)}.json`);
}

/** JsonFileTreeStore (atomic writes) that creates its folder and keeps the file readable by its owner only. */
export class PrivateFileTreeStore implements TreeStore {
  readonly path: string;
  readonly #inner: JsonFileTreeStore;
  #ready = false;

  constructor(path: string) {
    this.path = path;
    this.#inner = new JsonFileTreeStore(path);
  }

  load(): Promise<TreeSnapshot | undefined> {
    return this.#inner.load();
  }

  async save(snapshot: TreeSnapshot): Promise<void> {
    if (!this.#ready) {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      this.#ready = true;
    }
    await this.#inner.save(snapshot);
    await chmod(this.path, 0o600);
  }
}
