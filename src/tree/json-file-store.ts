/** A TreeStore in one JSON file, written atomically (temp file in the same folder, fsync, rename). */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { LocalProtocolError } from '../errors.js';
import type { TreeSnapshot, TreeStore } from './tree-store.js';

export class JsonFileTreeStore implements TreeStore {
  readonly path: string;
  #seq = 0;

  constructor(path: string) {
    this.path = path;
  }

  async load(): Promise<TreeSnapshot | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as TreeSnapshot;
    } catch (cause) {
      throw new LocalProtocolError('bad-tree-file', `tree file ${this.path} is not valid JSON`, { cause });
    }
  }

  async save(snapshot: TreeSnapshot): Promise<void> {
    const temp = `${this.path}.${process.pid}.${++this.#seq}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(JSON.stringify(snapshot));
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }
}
