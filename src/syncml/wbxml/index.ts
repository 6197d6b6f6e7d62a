/** The WBXML codec: messages (decodeWbxml / encodeWbxml) and any SyncML DM family document (readWbxml / writeWbxml). */
export { decodeWbxml, encodeWbxml } from './message.js';
export type { WbxmlEncodeOptions } from './message.js';
export { readWbxml, writeWbxml } from './document.js';
export type { WbxmlDocument, WbxmlWriteOptions } from './document.js';
export {
  FPI_DMDDF_12,
  FPI_SYNCML_12,
  PUBLIC_ID_SYNCML_12,
  PUBLIC_ID_UNKNOWN,
  numericPublicId,
  isDmDdfPublicId,
} from './public-ids.js';
export type { PublicId } from './public-ids.js';
export { DMDDF_NS, METINF_NS, SYNCML_NS } from './code-pages.js';
