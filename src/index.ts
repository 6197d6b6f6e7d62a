/**
 * omadm, the library: codecs, message model, security, management tree, sans-I/O session engines and Package 0.
 * The server (`omadm/server`) and the device runtime are composition roots used by the CLI; they are not re-exported
 * here so that importing the library never loads database drivers.
 */
export * from './errors.js';
export * from './platform/index.js';
export * from './syncml/index.js';
export * from './security/index.js';
export * from './tree/index.js';
export * from './session/index.js';
export * from './notification/index.js';
