export * from './model.js';
export * from './constants.js';
export * from './content-type.js';
export * from './limits.js';
export * from './command-outcome.js';
// Explicit: `Node` is too generic a name to put in the package's root namespace.
export type { Element, Opaque, Node as ElementNode } from './element.js';
export { isElement, isOpaque } from './element.js';
export * from './mapping/index.js';
export * from './xml/index.js';
export * from './codec.js';
