/** Delivery of Package 0 notifications from the server to devices. */
export * from './notification-channel.js';
export * from './udp-channel.js';
export * from './http-channel.js';
export * from './channel-router.js';
export * from './sms-channel.js';
export * from './device-notifier.js';
export * from './notified-session-events.js';
export * from './server-notifications.js';
