/** Queueing management commands, and the policies that wrap it. */
export * from './command-queue.js';
export * from './notify-on-queue.js';
