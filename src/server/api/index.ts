export { createRestApi, API_PREFIX } from './rest-api.js';
export type { RestApi, RestApiOptions, RouteSpec, ApiHandler } from './rest-api.js';
export { openApiDocument } from './openapi.js';
export {
  HttpError,
  readBody,
  sendJson,
  sendError,
  secretsEqual,
  DEFAULT_MAX_BODY_BYTES,
} from './http-util.js';
export type { MessageDecoder } from './views.js';
export { deviceView, commandView } from './views.js';
