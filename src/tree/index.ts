/** The management tree (issue 3): nodes, URIs, properties, ACLs, plugins, standard objects, DDF/TNDS, persistence. */
export * from './tree-error.js';
export * from './uri.js';
export * from './acl.js';
export * from './format.js';
export * from './description.js';
export * from './node-record.js';
export * from './plugin.js';
export * from './value-input.js';
export * from './management-tree.js';
export { PROPERTIES, formatTStamp, type ReadEntry, type PropertyName } from './read-ops.js';
export type { ExecInput } from './exec-op.js';
export * from './command-executor.js';
export * from './tnds.js';
export { addTnds, importTnds, tndsRoot } from './tnds-import.js';
export { toCodecElement, fromCodecElement, type DocElement } from './doc-element.js';
export * from './tree-store.js';
