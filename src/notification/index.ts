/** Package 0: the DM 1.2 server-alerted session trigger (security.md §8). Pure: no sockets, timers or randomness. */
export * from './trigger.js';
export * from './notification-errors.js';
export * from './session-id.js';
export * from './trigger-codec.js';
export * from './digest.js';
export * from './notification.js';
export * from './replay-guard.js';
export * from './wap-push.js';
