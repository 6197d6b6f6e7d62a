/** Element ⇄ model mapping shared by the XML and WBXML codecs: each codec only turns bytes into Elements. */
export { elementToMessage } from './decode-message.js';
export { messageToElement } from './encode.js';
