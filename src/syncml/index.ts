export * from './model.js';
export * from './constants.js';
export * from './content-type.js';
export * from './limits.js';
export * from './command-outcome.js';
