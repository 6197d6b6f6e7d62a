/**
 * The management tree: runtime nodes (NodeRecord by canonical URI), their descriptions (DDF) and mounted
 * plugins. No I/O: time comes from `now`, storage from an injected TreeStore. Operations live in
 * read-ops.ts / write-ops.ts / exec-op.ts; this class holds state and the primitives they share.
 * Callers must not run two commands at once on one tree (the command executor serializes them).
 */
import { interior, childDescription, withChild, type NodeDescription } from './description.js';
import { isInterior, type Actor, type NodeRecord } from './node-record.js';
import type { GenericAlert, TreePlugin } from './plugin.js';
import { TreeError } from './tree-error.js';
import { formatUri, parseUri, type ParsedUri, type UriLimits } from './uri.js';
import { fromUtf8 } from './format.js';
import { snapshotOf, restoreSnapshot, type TreeSnapshot, type TreeStore } from './tree-store.js';
import * as read from './read-ops.js';
import * as write from './write-ops.js';
import { execNode, type ExecInput } from './exec-op.js';
import type { NodeInput } from './value-input.js';
import type { ReadEntry } from './read-ops.js';

export type OptionalProperty = 'Size' | 'Title' | 'TStamp' | 'VerNo';

export interface TreeOptions {
  /** Clock for TStamp (ms since the epoch); pass a ManualClock's `now` in tests. */
  readonly now?: () => number;
  /** Root ACL (tree.md §5.2: SHOULD be `Add=*&Get=*`). */
  readonly rootAcl?: string;
  /** MAY-properties this device supports; others answer 406. Default: all four. */
  readonly optionalProperties?: readonly OptionalProperty[];
  /** Receives Generic Alerts reported by asynchronous Exec handlers (the runtime sends them as Alert 1226). */
  readonly onGenericAlert?: (alert: GenericAlert) => void;
  /**
   * Where an MO Added into ./Inbox goes (tree.md §7.4): MO identifier (interior Type) → parent URI, e.g.
   * `{ 'urn:oma:mo:oma-fumo:1.0': './FUMO' }`. MOs with an unknown Type stay below ./Inbox.
   */
  readonly inboxRoutes?: Readonly<Record<string, string>>;
  /** Limits applied when DevDetail/URI does not set one (0/absent there = unlimited, but not unbounded here). */
  readonly hardLimits?: UriLimits;
}

const DEFAULT_HARD_LIMITS: Required<UriLimits> = { maxDepth: 64, maxTotLen: 4096, maxSegLen: 1024 };

export class ManagementTree {
  readonly now: () => number;
  readonly optionalProperties: ReadonlySet<OptionalProperty>;
  readonly onGenericAlert: ((alert: GenericAlert) => void) | undefined;
  readonly inboxRoutes: Readonly<Record<string, string>>;
  #nodes = new Map<string, NodeRecord>();
  #root: NodeDescription;
  readonly #plugins = new Map<string, TreePlugin>();
  readonly #hard: Required<UriLimits>;
  #dirty = false;
  #store: TreeStore | undefined;

  constructor(options: TreeOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.optionalProperties = new Set(options.optionalProperties ?? ['Size', 'Title', 'TStamp', 'VerNo']);
    this.onGenericAlert = options.onGenericAlert;
    this.inboxRoutes = options.inboxRoutes ?? {};
    this.#hard = { ...DEFAULT_HARD_LIMITS, ...options.hardLimits };
    // tree.md §2: the root `.` always exists and cannot be deleted; tree.md §5.2 root ACL.
    this.#root = interior(undefined, [], { accessType: ['Add', 'Get'], scope: 'Permanent', open: true });
    this.#nodes.set('.', {
      name: '',
      format: 'node',
      type: '',
      acl: options.rootAcl ?? 'Add=*&Get=*',
      tstamp: this.now(),
      verNo: 0,
      children: [],
    });
  }

  // ---- server-facing operations (ACL-checked unless actor is DEVICE) ----

  /** Get: a leaf value, an interior child list, `?prop=`, or `?list=Struct|StructData|TNDS…`. */
  get(uri: string, actor: Actor): Promise<readonly ReadEntry[]> {
    return read.get(this, uri, actor);
  }
  add(uri: string, input: NodeInput, actor: Actor): Promise<void> {
    return write.add(this, uri, input, actor);
  }
  replace(uri: string, input: NodeInput, actor: Actor): Promise<void> {
    return write.replace(this, uri, input, actor);
  }
  delete(uri: string, actor: Actor): Promise<void> {
    return write.remove(this, uri, actor);
  }
  copy(sourceUri: string, targetUri: string, actor: Actor): Promise<void> {
    return write.copy(this, sourceUri, targetUri, actor);
  }
  exec(uri: string, input: ExecInput, actor: Actor): Promise<number> {
    return execNode(this, uri, input, actor);
  }

  // ---- device-side conveniences ----

  /** Leaf value as text (plugin-backed values included), undefined when the node is missing or interior. */
  async readText(uri: string): Promise<string | undefined> {
    const bytes = await this.readBytes(uri);
    return bytes === undefined ? undefined : fromUtf8(bytes);
  }
  async readBytes(uri: string): Promise<Uint8Array | undefined> {
    const segments = this.parse(uri).segments;
    const node = this.node(segments);
    if (node === undefined || isInterior(node)) return undefined;
    return read.leafValue(this, segments, node, undefined);
  }
  /** Whether a node exists. */
  has(uri: string): boolean {
    return this.node(this.parse(uri).segments) !== undefined;
  }

  /** Adds descriptions (a DDF) below `parentUri` and creates the nodes they make the device create. */
  async define(descriptions: readonly NodeDescription[], parentUri = '.'): Promise<void> {
    await write.define(this, descriptions, parentUri);
  }

  /** Mounts a plugin at a node: it serves that node and everything below it. */
  mount(uri: string, plugin: TreePlugin): void {
    this.#plugins.set(formatUri(this.parse(uri).segments), plugin);
  }

  /** Runs `work` all-or-nothing: if it throws, the node state is restored (plugins' side effects are not). */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    const saved = new Map(this.#nodes);
    const dirty = this.#dirty;
    try {
      return await work();
    } catch (error) {
      this.#nodes = saved;
      this.#dirty = dirty;
      throw error;
    }
  }

  // ---- persistence ----

  /** Restores the state saved in `store` (if any) and saves every later change there. */
  async attachStore(store: TreeStore): Promise<void> {
    const snapshot = await store.load();
    if (snapshot !== undefined) this.restore(snapshot);
    this.#store = store;
    this.#dirty = snapshot === undefined;
    await this.save();
  }
  /** Writes the state to the attached store if it changed since the last save. */
  async save(): Promise<void> {
    if (this.#store === undefined || !this.#dirty) return;
    await this.#store.save(this.snapshot());
    this.#dirty = false;
  }
  snapshot(): TreeSnapshot {
    return snapshotOf(this.#nodes);
  }
  restore(snapshot: TreeSnapshot): void {
    this.#nodes = restoreSnapshot(snapshot);
    this.#dirty = true;
  }

  // ---- primitives shared by the operation modules ----

  /** Parses a command URI against DevDetail/URI limits (tree.md §1 → 414) and the hard limits. */
  parse(uri: string): ParsedUri {
    return parseUri(uri, this.uriLimits());
  }
  uriLimits(): Required<UriLimits> {
    const limit = (name: string, hard: number): number => {
      const node = this.#nodes.get(`./DevDetail/URI/${name}`);
      const n = node?.value === undefined ? 0 : Number(fromUtf8(node.value));
      return Number.isInteger(n) && n > 0 ? Math.min(n, hard) : hard;
    };
    return {
      maxDepth: limit('MaxDepth', this.#hard.maxDepth),
      maxTotLen: limit('MaxTotLen', this.#hard.maxTotLen),
      maxSegLen: limit('MaxSegLen', this.#hard.maxSegLen),
    };
  }
  node(segments: readonly string[]): NodeRecord | undefined {
    return this.#nodes.get(formatUri(segments));
  }
  /** Every node's canonical URI and record, in no particular order. */
  entries(): IterableIterator<[string, NodeRecord]> {
    return this.#nodes.entries();
  }
  setNode(segments: readonly string[], record: NodeRecord): void {
    this.#nodes.set(formatUri(segments), record);
    this.#dirty = true;
  }
  deleteNode(segments: readonly string[]): void {
    this.#nodes.delete(formatUri(segments));
    this.#dirty = true;
  }
  describe(segments: readonly string[]): NodeDescription | undefined {
    let desc: NodeDescription | undefined = this.#root;
    for (const name of segments) desc = childDescription(desc, name);
    return desc;
  }
  /** Merges a description under the description of `parent` (creating undescribed ancestors' entries). */
  addDescription(parent: readonly string[], desc: NodeDescription): void {
    const attach = (at: NodeDescription, depth: number): NodeDescription => {
      if (depth === parent.length) return withChild(at, desc);
      const name = parent[depth]!;
      const existing =
        at.children.find((c) => c.name === name) ?? interior(name, [], { accessType: ['Get'], open: true });
      return withChild(at, attach(existing, depth + 1));
    };
    this.#root = attach(this.#root, 0);
  }
  rootDescription(): NodeDescription {
    return this.#root;
  }
  /** Nearest non-empty ACL walking up from the node (tree.md §5.2; the root always has one). */
  effectiveAcl(segments: readonly string[]): string {
    for (let n = segments.length; n >= 0; n--) {
      const acl = this.node(segments.slice(0, n))?.acl;
      if (acl !== undefined && acl !== '') return acl;
    }
    return '';
  }
  pluginAt(segments: readonly string[]): { plugin: TreePlugin; path: string } | undefined {
    for (let n = segments.length; n >= 0; n--) {
      const plugin = this.#plugins.get(formatUri(segments.slice(0, n)));
      if (plugin !== undefined) return { plugin, path: segments.slice(n).join('/') };
    }
    return undefined;
  }
  /** The record after a change: TStamp now, VerNo +1 wrapping at 0xFFFF (tree.md §3). */
  touched(record: NodeRecord, change: Partial<NodeRecord>): NodeRecord {
    return { ...record, ...change, tstamp: this.now(), verNo: (record.verNo + 1) & 0xffff };
  }
  /** Parent segments for an MO of `type` Added into ./Inbox, when the device routes that type. */
  inboxRoute(type: string | undefined): readonly string[] | undefined {
    const to = type === undefined ? undefined : this.inboxRoutes[type];
    return to === undefined ? undefined : this.parse(to).segments;
  }
  requireNode(segments: readonly string[], uri: string): NodeRecord {
    const node = this.node(segments);
    if (node === undefined) throw new TreeError(404, 'not-found', 'no such node', uri);
    return node;
  }
}
