/**
 * The OpenAPI 3.1 document of the REST API, served at `/api/v1/openapi.json`. It describes the route table of
 * rest-api.ts; test/server/rest-api.test.ts checks that both list the same operations.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const time = { type: ['string', 'null'], format: 'date-time' };

function errors(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'Bad request: invalid JSON, body or query; `field` names the offending field',
    401: 'Missing or wrong admin token',
    404: 'Unknown device, command or route',
    409: 'Conflict (duplicate device, command no longer queued, device without notifyAddress)',
    413: 'Body too large',
    415: 'Body is not application/json',
    422: "The device's notifyAddress is not a URL or names a scheme no channel delivers to",
    501: 'This server sends no notifications',
    502: 'The notification channel failed to deliver (device or network unreachable, gateway refused)',
  };
  return Object.fromEntries(
    statuses.map((s) => [
      String(s),
      { description: descriptions[s] ?? 'Error', content: { 'application/json': { schema: ref('Error') } } },
    ]),
  );
}

const json = (schema: unknown, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const body = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });
const param = (name: string, description: string, schema: unknown = { type: 'string' }) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
const queryParam = (name: string, description: string, schema: unknown = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const paging = [
  queryParam('limit', 'Page size, 1–1000 (default 50)', { type: 'integer', minimum: 1, maximum: 1000 }),
  queryParam('cursor', '`nextCursor` of the previous page'),
  queryParam('offset', 'Items to skip (instead of cursor)', { type: 'integer', minimum: 0 }),
];
const page = (item: string) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: ref(item) }, nextCursor: { type: 'string' } },
});
const deviceId = param('deviceId', 'Device id (DevInfo/DevId), URL-encoded, e.g. `IMEI%3A359000000000001`');
const commandId = param('commandId', 'Command id', { type: 'integer', minimum: 1 });

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'omadm server REST API',
      version: '1.0.0',
      description:
        'Operate an OMA DM 1.2 server: register devices, queue management commands, read what devices answered, ' +
        'and follow server events. Times are ISO 8601 UTC. Secrets (passwords) are accepted, never returned.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    paths: {
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          security: [],
          summary: 'This document',
          responses: { 200: json({ type: 'object' }) },
        },
      },
      '/devices': {
        post: {
          operationId: 'createDevice',
          summary: 'Register a device',
          requestBody: body(ref('NewDevice')),
          responses: { 201: json(ref('Device'), 'Created'), ...errors(400, 401, 409, 413, 415) },
        },
        get: {
          operationId: 'listDevices',
          summary: 'List devices by id',
          parameters: [...paging, queryParam('prefix', 'Only devices whose id starts with this')],
          responses: { 200: json(page('Device')), ...errors(400, 401) },
        },
      },
      '/devices/{deviceId}': {
        parameters: [deviceId],
        get: { operationId: 'getDevice', responses: { 200: json(ref('Device')), ...errors(401, 404) } },
        patch: {
          operationId: 'updateDevice',
          summary: 'Change credentials or notification address (username needs password too), or unlock',
          requestBody: body(ref('DevicePatch')),
          responses: { 200: json(ref('Device')), ...errors(400, 401, 404, 413, 415) },
        },
        delete: {
          operationId: 'deleteDevice',
          summary: 'Delete a device and everything stored about it',
          responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
        },
      },
      '/devices/{deviceId}/commands': {
        parameters: [deviceId],
        post: {
          operationId: 'queueCommand',
          summary: 'Queue a management command for the next session',
          description:
            'With `?notify=true`, or when the device has `notifyOnQueue`, the device is also sent a Package 0 ' +
            '(unless one sent in the last 30 s is still unanswered: that session will fetch this command too). ' +
            'The command is queued whatever the notification comes to; `notification` says what it came to.',
          parameters: [
            queryParam('notify', 'Also notify the device now (Package 0)', { enum: ['true', 'false'] }),
          ],
          requestBody: body(ref('NewCommand')),
          responses: {
            201: json(
              {
                type: 'object',
                required: ['id', 'state'],
                properties: {
                  id: { type: 'integer' },
                  state: { const: 'queued' },
                  notification: ref('QueueNotification'),
                },
              },
              'Queued',
            ),
            ...errors(400, 401, 404, 413, 415),
          },
        },
        get: {
          operationId: 'listCommands',
          summary: 'Command history, newest first',
          parameters: paging,
          responses: { 200: json(page('Command')), ...errors(400, 401, 404) },
        },
      },
      '/devices/{deviceId}/notify': {
        parameters: [deviceId],
        post: {
          operationId: 'notifyDevice',
          summary: 'Send the device a Package 0 asking it to open a management session now',
          description:
            'Builds the DM 1.2 notification (protocol.md §3.1, security.md §8) with a fresh session id, signs it ' +
            "with this server's ServerID, the device's server password and the latest nonce the device issued to " +
            'the server, and delivers it to `notifyAddress` (`udp://`, `http(s)://`, `sms:` with a gateway). 202 ' +
            'means the transport took it; the device answers with a session whose SessionID is `sessionId` ' +
            '(Alert 1200), reported as `session.started` with `notifiedAt` and `latencyMs`. With ' +
            '`nonceResync: true` the trigger is signed with the special nonce instead (security.md §8.3), for a ' +
            "device whose stored server nonce no longer matches the server's; until `nonceResyncUntil` the " +
            'device may answer it once with credentials built on that nonce, and the session refreshes both nonces.',
          requestBody: {
            required: false,
            content: { 'application/json': { schema: ref('NotifyRequest') } },
          },
          responses: {
            202: json(ref('NotificationSent'), 'Sent'),
            ...errors(400, 401, 404, 409, 413, 415, 422, 501, 502),
          },
        },
      },
      '/devices/{deviceId}/commands/{commandId}': {
        parameters: [deviceId, commandId],
        get: { operationId: 'getCommand', responses: { 200: json(ref('Command')), ...errors(401, 404) } },
        delete: {
          operationId: 'cancelCommand',
          summary:
            'Cancel a queued command (state becomes `cancelled`); sent or finished commands answer 409',
          responses: {
            200: json({
              type: 'object',
              properties: { id: { type: 'integer' }, state: { const: 'cancelled' } },
            }),
            ...errors(401, 404, 409),
          },
        },
      },
      '/devices/{deviceId}/tree': {
        parameters: [deviceId],
        get: {
          operationId: 'getTree',
          summary: 'Last known values the server learned from Results, at a path and below',
          parameters: [queryParam('path', 'Subtree, e.g. `./DevInfo` (default: the whole tree)')],
          responses: {
            200: json({
              type: 'object',
              properties: { path: { type: 'string' }, items: { type: 'array', items: ref('TreeValue') } },
            }),
            ...errors(401, 404),
          },
        },
      },
      '/devices/{deviceId}/alerts': {
        parameters: [deviceId],
        get: {
          operationId: 'listAlerts',
          summary: 'Generic alerts (1226) and client events (1224), newest first',
          parameters: paging,
          responses: { 200: json(page('GenericAlert')), ...errors(400, 401, 404) },
        },
      },
      '/devices/{deviceId}/messages': {
        parameters: [deviceId],
        get: {
          operationId: 'listMessages',
          summary: 'The message log (retained by age and count), newest first',
          parameters: paging,
          responses: { 200: json(page('Message')), ...errors(400, 401, 404) },
        },
      },
      '/events': {
        get: {
          operationId: 'streamEvents',
          summary: 'Server-Sent Events; `: heartbeat` comments keep the stream alive',
          description: 'Also accepts the token as `?access_token=` (EventSource cannot send headers).',
          parameters: [
            queryParam('deviceId', 'Only events of this device'),
            queryParam('types', 'Comma-separated event types'),
            queryParam('access_token', 'Admin token, when no Authorization header can be sent'),
          ],
          responses: {
            200: {
              description: 'text/event-stream; each event: `event: <type>`, `data: <Event JSON>`',
              content: { 'text/event-stream': { schema: ref('Event') } },
            },
            ...errors(400, 401),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The admin token' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
        },
        AuthType: { enum: ['md5', 'basic', 'hmac'] },
        NewDevice: {
          type: 'object',
          additionalProperties: false,
          required: ['deviceId', 'username', 'password', 'authType', 'serverPassword'],
          properties: {
            deviceId: { type: 'string', minLength: 1, maxLength: 1024 },
            username: { type: 'string', minLength: 1 },
            password: { type: 'string', minLength: 1, writeOnly: true },
            authType: ref('AuthType'),
            serverAuthType: {
              allOf: [ref('AuthType')],
              description:
                'How the server authenticates to the device (its DMAcc SRVCRED AAuthType, security.md §2/§9); default: authType',
            },
            serverPassword: { type: 'string', minLength: 1, writeOnly: true },
            notifyAddress: nullable('string'),
            notifyOnQueue: {
              type: 'boolean',
              default: false,
              description: 'Send a Package 0 whenever a command is queued for this device',
            },
          },
        },
        DevicePatch: {
          type: 'object',
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1 },
            password: { type: 'string', minLength: 1, writeOnly: true },
            authType: ref('AuthType'),
            serverAuthType: {
              oneOf: [ref('AuthType'), { type: 'null' }],
              description: 'How the server authenticates to the device; null: the same as authType again',
            },
            serverPassword: { type: 'string', minLength: 1, writeOnly: true },
            notifyAddress: nullable('string'),
            notifyOnQueue: { type: 'boolean' },
            unlock: { const: true, description: 'Clear the authentication failure count and any lockout' },
          },
        },
        Device: {
          type: 'object',
          properties: {
            deviceId: { type: 'string' },
            username: { type: 'string' },
            authType: ref('AuthType'),
            serverAuthType: ref('AuthType'),
            notifyAddress: nullable('string'),
            notifyOnQueue: { type: 'boolean' },
            lastSeen: time,
            createdAt: { type: 'string', format: 'date-time' },
            failedAuthCount: { type: 'integer' },
            lockedUntil: time,
          },
        },
        ItemCommand: {
          type: 'object',
          required: ['command', 'target'],
          properties: {
            command: { enum: ['Get', 'Add', 'Replace', 'Delete', 'Copy', 'Exec'] },
            target: { type: 'string', description: 'Node URI, e.g. `./DevInfo/Mod`' },
            data: { type: 'string', description: 'Not for Get or Delete' },
            format: {
              enum: ['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float'],
            },
            type: { type: 'string', description: 'MIME type (Meta/Type)' },
            source: { type: 'string', description: 'Required for Copy' },
          },
        },
        AlertCommand: {
          type: 'object',
          required: ['command', 'code'],
          properties: {
            command: { const: 'Alert' },
            code: {
              type: 'integer',
              minimum: 1000,
              maximum: 9999,
              description: 'e.g. 1100 DISPLAY, 1101 CONFIRM',
            },
            items: { type: 'array', items: { type: 'string' }, description: 'Item/Data texts in order' },
          },
        },
        ContainerCommand: {
          type: 'object',
          required: ['command', 'commands'],
          description:
            'Atomic holds Add, Alert, Copy, Delete, Replace; Sequence holds Add, Alert, Copy, Delete, Exec, Get, Replace.',
          properties: {
            command: { enum: ['Atomic', 'Sequence'] },
            commands: {
              type: 'array',
              minItems: 1,
              items: { oneOf: [ref('ItemCommand'), ref('AlertCommand')] },
            },
          },
        },
        CommandSpec: { oneOf: [ref('ItemCommand'), ref('AlertCommand'), ref('ContainerCommand')] },
        NewCommand: {
          allOf: [
            ref('CommandSpec'),
            {
              type: 'object',
              properties: {
                ttlSeconds: {
                  type: 'integer',
                  minimum: 1,
                  description: 'Expire if still queued after this long',
                },
              },
            },
          ],
        },
        UiMode: {
          enum: ['not-specified', 'background', 'informative', 'user-interaction'],
          description:
            'Package 0 ui-mode (security.md §8.1): user-interaction asks the user first, informative tells, ' +
            'background is silent',
        },
        NotifyRequest: {
          type: 'object',
          additionalProperties: false,
          properties: {
            uiMode: { allOf: [ref('UiMode')], default: 'not-specified' },
            nonceResync: {
              type: 'boolean',
              default: false,
              description:
                'Nonce resynchronisation (security.md §8.3): sign the trigger with the special nonce (4 zero bytes) ' +
                'and accept, once and until `nonceResyncUntil` (the server option nonceResyncOfferMs, default ' +
                '10 minutes), Package 1 credentials built on that nonce; the server answers them with a fresh nonce. ' +
                'Credentials on that nonce without a standing offer are refused like wrong ones. Only devices that ' +
                'accept resync answer such a trigger.',
            },
          },
        },
        NotificationSent: {
          type: 'object',
          required: ['sessionId', 'uiMode', 'notifiedAt'],
          properties: {
            sessionId: {
              type: 'string',
              pattern: '^[1-9A-F][0-9A-F]{0,3}$',
              description: 'The SessionID the device will use (upper-case hex)',
            },
            uiMode: ref('UiMode'),
            notifiedAt: { type: 'string', format: 'date-time' },
            nonceResyncUntil: {
              type: 'string',
              format: 'date-time',
              description:
                'With `nonceResync`: until when the device may answer with credentials on the special nonce',
            },
          },
        },
        QueueNotification: {
          type: 'object',
          required: ['outcome'],
          description:
            '`sent`: a Package 0 went out; `pending`: an unanswered one sent moments ago covers this command; ' +
            '`failed`: not notified (`code`, `message` as `POST …/notify` would answer); the command is queued anyway',
          properties: {
            outcome: { enum: ['sent', 'pending', 'failed'] },
            sessionId: { type: 'string' },
            notifiedAt: { type: 'string', format: 'date-time' },
            code: { type: 'string' },
            message: { type: 'string' },
          },
        },
        ResultItem: {
          type: 'object',
          properties: {
            target: { type: 'string' },
            data: nullable('string'),
            format: nullable('string'),
            type: nullable('string'),
          },
        },
        Command: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            deviceId: { type: 'string' },
            command: ref('CommandSpec'),
            state: { enum: ['queued', 'sent', 'done', 'failed', 'expired', 'cancelled'] },
            status: nullable('integer', {
              description:
                "The device's status code (the container's for Atomic/Sequence); 413 when the server refused to " +
                'send it (`reason: too-large`); null while unanswered, or when it failed `unanswered`',
            }),
            childStatuses: { type: ['array', 'null'], items: { type: 'integer' } },
            results: { type: 'array', items: ref('ResultItem') },
            sessionId: nullable('string'),
            createdAt: { type: 'string', format: 'date-time' },
            sentAt: time,
            doneAt: time,
            expiresAt: time,
            deliveries: {
              type: 'integer',
              minimum: 0,
              description:
                'Sessions the command was handed to: sent in (a session abandoned after a crash counts too), or ' +
                'settled in without being sent (`too-large`)',
            },
            reason: {
              type: ['string', 'null'],
              enum: ['unanswered', 'too-large', null],
              description:
                "Why it failed without the device's status: `unanswered` — still no answer after its last delivery " +
                "allowed (the server config's `maxDeliveries`, default 3), status null; `too-large` — never sent, it " +
                'cannot reach the device within its MaxMsgSize or MaxObjSize (a command that neither fits one message ' +
                'nor can be chunked as a large object), status 413. Null otherwise',
            },
          },
        },
        TreeValue: {
          type: 'object',
          properties: {
            uri: { type: 'string' },
            data: nullable('string'),
            format: nullable('string'),
            type: nullable('string'),
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
        GenericAlert: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            deviceId: { type: 'string' },
            sessionId: nullable('string'),
            code: { type: 'integer' },
            correlator: nullable('string'),
            items: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  source: nullable('string'),
                  type: nullable('string'),
                  format: nullable('string'),
                  mark: nullable('string'),
                  data: nullable('string'),
                },
              },
            },
            receivedAt: { type: 'string', format: 'date-time' },
          },
        },
        Message: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            deviceId: { type: 'string' },
            sessionId: nullable('string'),
            direction: { enum: ['in', 'out'] },
            contentType: { type: 'string' },
            size: { type: 'integer' },
            createdAt: { type: 'string', format: 'date-time' },
            bodyEncoding: { enum: ['utf8', 'base64'] },
            body: { type: 'string' },
            decoded: { description: 'The decoded message, when the server has a decoder' },
            decodeError: { type: 'string' },
          },
        },
        Event: {
          type: 'object',
          required: ['type', 'deviceId', 'at'],
          properties: {
            type: {
              enum: [
                'session.started',
                'session.ended',
                'command.done',
                'generic-alert',
                'auth.failure',
                'notification.sent',
              ],
            },
            deviceId: { type: 'string' },
            at: { type: 'integer', description: 'Milliseconds since the epoch' },
            sessionId: { type: 'string' },
            initiator: {
              enum: ['client', 'server'],
              description: 'session.started: `server` when Package 1 carried Alert 1200',
            },
            uiMode: { allOf: [ref('UiMode')], description: 'notification.sent' },
            channel: { type: 'string', description: 'notification.sent: the target scheme' },
            notifiedAt: {
              type: 'integer',
              description: 'session.started answering our Package 0: when it was sent (ms since the epoch)',
            },
            latencyMs: {
              type: 'integer',
              description: 'session.started: ms from the Package 0 to Package 1',
            },
            commandId: { type: 'integer', description: 'command.done' },
            state: { enum: ['done', 'failed', 'expired', 'cancelled'], description: 'command.done' },
            status: { type: ['integer', 'null'], description: "command.done: the device's status code" },
            reason: {
              type: 'string',
              description:
                'session.ended: why it ended; auth.failure: what failed; command.done: `unanswered` or `too-large` ' +
                '(as in Command.reason)',
            },
          },
          additionalProperties: true,
        },
      },
    },
  };
}
