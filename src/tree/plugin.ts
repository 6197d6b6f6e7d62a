/**
 * The plugin contract: code behind a subtree (tree.md's "management objects backed by code").
 * A plugin is mounted at a node and serves that node and everything below it (the deepest mount wins).
 * The core has already checked the URI, the ACL, the AccessType and the Format before calling it, so
 * plugins stay tiny: they only produce values, observe writes, and run executable nodes.
 * Structure (which nodes exist, their Format/Type/ACL) stays in the tree (DDF or device Adds).
 */

export interface PluginRequest {
  /** Canonical URI of the node (`./DevDetail/Ext/Battery/Level`). */
  readonly uri: string;
  /** Path below the mount point ('' for the mount node itself), `/`-joined decoded names. */
  readonly path: string;
  /** The server asking, undefined when the device itself asks. */
  readonly serverId?: string;
}

/** A Generic Alert (protocol.md §13.1) reported later by an asynchronous Exec. */
export interface GenericAlertReport {
  /** e.g. `org.openmobilealliance.dm.firmwareupdate.update`. */
  readonly type: string;
  /** Meta Format of data; default `int` when data is a result code, else `chr`. */
  readonly format?: string;
  readonly mark?: string;
  readonly data: string;
}

/** What the runtime receives for a Generic Alert (Alert 1226) to send in this or a later session. */
export interface GenericAlert extends GenericAlertReport {
  readonly correlator?: string;
  /** URI of the executed node (Item Source). */
  readonly sourceUri: string;
  /** The server that issued the Exec. */
  readonly serverId?: string;
}

export interface ExecRequest extends PluginRequest {
  /** Item Data of the Exec (argument), raw bytes. */
  readonly data?: Uint8Array;
  readonly correlator?: string;
  /** For asynchronous work: call once when done; the tree hands it to the runtime's onGenericAlert. */
  readonly report: (alert: GenericAlertReport) => void;
}

/** Status for the Exec: 200 done, 202 accepted (report() later), or an error code (e.g. 500, 403). */
export type ExecResult = number | { readonly code: number };

export interface TreePlugin {
  /** Dynamic value of a leaf (string = UTF-8 text); undefined = use the stored value. */
  read?(request: PluginRequest): string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;
  /** A server or the device wrote a leaf value; throw a TreeError to refuse (its status is answered). */
  write?(
    request: PluginRequest & { readonly value: Uint8Array; readonly format: string },
  ): void | Promise<void>;
  /** Exec on this node; absent → the node is not executable. */
  exec?(request: ExecRequest): ExecResult | Promise<ExecResult>;
}
