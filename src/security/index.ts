export * from './digest.js';
export * from './hmac-header.js';
export * from './nonce.js';
export * from './verify.js';
