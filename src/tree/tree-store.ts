/**
 * Persistence port (STYLE.md habit 6): the whole runtime tree as a JSON-able snapshot. Descriptions are not
 * stored: the device loads the same DDF at start, then restores the saved state over it.
 */
import { isFormat, decodeB64, encodeB64 } from './format.js';
import type { NodeRecord } from './node-record.js';
import { LocalProtocolError } from '../errors.js';

export interface TreeStore {
  /** The last saved snapshot, or undefined when nothing was saved yet. */
  load(): Promise<TreeSnapshot | undefined>;
  /** Replaces the saved snapshot (implementations must not leave a half-written one behind). */
  save(snapshot: TreeSnapshot): Promise<void>;
}

export interface StoredNode {
  readonly uri: string;
  readonly name: string;
  readonly format: string;
  readonly type: string;
  readonly acl: string;
  readonly title?: string;
  readonly tstamp: number;
  readonly verNo: number;
  /** Base64 of the raw value (leaves). */
  readonly value?: string;
  readonly children: readonly string[];
}

export interface TreeSnapshot {
  readonly version: 1;
  readonly nodes: readonly StoredNode[];
}

export function snapshotOf(nodes: ReadonlyMap<string, NodeRecord>): TreeSnapshot {
  const out: StoredNode[] = [];
  for (const [uri, n] of nodes) {
    out.push({
      uri,
      name: n.name,
      format: n.format,
      type: n.type,
      acl: n.acl,
      tstamp: n.tstamp,
      verNo: n.verNo,
      children: [...n.children],
      ...(n.title === undefined ? {} : { title: n.title }),
      ...(n.value === undefined ? {} : { value: encodeB64(n.value) }),
    });
  }
  return { version: 1, nodes: out };
}

/** Rebuilds the node map; a snapshot that is not one (corrupt file) is our problem → LocalProtocolError. */
export function restoreSnapshot(snapshot: TreeSnapshot): Map<string, NodeRecord> {
  const nodes: unknown = snapshot.nodes;
  if (snapshot.version !== 1 || !Array.isArray(nodes)) {
    throw new LocalProtocolError('bad-tree-snapshot', 'tree snapshot has an unknown version or no nodes');
  }
  const out = new Map<string, NodeRecord>();
  for (const n of snapshot.nodes) {
    if (!isFormat(n.format) || typeof n.uri !== 'string') {
      throw new LocalProtocolError('bad-tree-snapshot', `tree snapshot node ${String(n.uri)} is malformed`);
    }
    const base: NodeRecord = {
      name: n.name,
      format: n.format,
      type: n.type,
      acl: n.acl,
      tstamp: n.tstamp,
      verNo: n.verNo,
      children: [...n.children],
      ...(n.title === undefined ? {} : { title: n.title }),
    };
    out.set(n.uri, n.value === undefined ? base : { ...base, value: decodeB64(n.value) });
  }
  if (!out.has('.')) throw new LocalProtocolError('bad-tree-snapshot', 'tree snapshot has no root node');
  return out;
}

/** Keeps the snapshot in memory (tests, simulators). Stores a deep copy so later changes do not leak in. */
export class MemoryTreeStore implements TreeStore {
  #saved: string | undefined;
  async load(): Promise<TreeSnapshot | undefined> {
    return this.#saved === undefined ? undefined : (JSON.parse(this.#saved) as TreeSnapshot);
  }
  async save(snapshot: TreeSnapshot): Promise<void> {
    this.#saved = JSON.stringify(snapshot);
  }
}
