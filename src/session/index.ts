export * from './client-session.js';
export * from './server-session.js';
export * from './state-machine.js';
export * from './types.js';
export * from './ui-alert.js';
export type { Measure, PendingCommand } from './packer.js';
export type { Json } from './json.js';
