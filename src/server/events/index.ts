export * from './event-bus.js';
export { InProcessEventBus } from './in-process-event-bus.js';
export { PostgresEventBus, DEFAULT_EVENT_CHANNEL } from './postgres-event-bus.js';
export type { PostgresEventBusOptions } from './postgres-event-bus.js';
