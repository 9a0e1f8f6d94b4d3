/**
 * Every operation of the API, defined once: method, path, OpenAPI fields (operationId, summary,
 * security, tags) and the JSON Schemas of its request and of each answer, failures included with
 * their codes enumerated by status. The server registers its routes from these (Fastify validates
 * and serializes with the schemas, and a type provider checks each handler against them), and the
 * OpenAPI document at `/openapi.json` is generated from the same objects.
 */
import { failureResponses } from './failure-body.ts';
import {
  credentialsSchema,
  endedBodySchema,
  healthBodySchema,
  jwksBodySchema,
  messageBodySchema,
  passwordChangeSchema,
  sessionIdParamsSchema,
  sessionsBodySchema,
  signedInBodySchema,
  statusBodySchema,
  tokenBodySchema,
} from './schemas.ts';

/**
 * The security schemes of the API, as OpenAPI components: the access token in an `Authorization:
 * Bearer` header, and the HttpOnly refresh cookie.
 *
 * @example
 * ```ts
 * const openapi = { components: { securitySchemes: SECURITY_SCHEMES } };
 * ```
 */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The auth_token of a sign-in or refresh, valid for expires_in seconds.',
  },
  refreshCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'latchkey_refresh',
    description: 'The HttpOnly refresh cookie set by sign-in and refresh (Path=/auth).',
  },
} as const;

/**
 * The tags operations are grouped by, with their descriptions.
 *
 * @example
 * ```ts
 * const openapi = { tags: OPENAPI_TAGS };
 * ```
 */
export const OPENAPI_TAGS = [
  { name: 'auth', description: 'Register, sign in, refresh, sign out, change the password.' },
  { name: 'sessions', description: "The signed-in user's sessions: list them, end them." },
  { name: 'keys', description: 'Public keys for services that verify access tokens themselves.' },
  { name: 'health', description: 'Whether the server and its database answer.' },
] as const;

const PUBLIC = [] as const;
const BEARER = [{ bearer: [] }] as const;
const REFRESH_COOKIE = [{ refreshCookie: [] }] as const;

/** Any request with a body: it must be JSON, readable, at most 16 KiB, and of the right shape. */
const BODY_ERRORS = [
  'bad_request',
  'unsupported_media_type',
  'payload_too_large',
  'validation_failed',
] as const;
/** A request that needs an access token (RFC 6750 §3.1). */
const BEARER_ERRORS = ['missing_token', 'invalid_token', 'token_expired', 'token_revoked'] as const;
/**
 * Any request the database takes part in; and any request at all can carry headers past the
 * server's 16 KiB limit, or arrive too slowly, which Node refuses before routing.
 */
const SERVER_ERRORS = [
  'request_timeout',
  'request_header_too_large',
  'internal_error',
  'service_unavailable',
] as const;

const statusSchema = {
  tags: ['auth'],
  security: BEARER,
  response: {
    200: { description: 'The signed-in user.', ...statusBodySchema },
    ...failureResponses([...BEARER_ERRORS, ...SERVER_ERRORS]),
  },
} as const;

/**
 * The operations of the API by operationId.
 *
 * @example
 * ```ts
 * const { method, path } = OPERATIONS.logIn; // 'POST', '/auth/login'
 * ```
 */
export const OPERATIONS = {
  register: {
    method: 'POST',
    path: '/auth/register',
    schema: {
      operationId: 'register',
      summary: 'Create an account and sign in',
      description:
        'Creates the account, starts a session and sets the refresh cookie. Field problems are ' +
        'listed in `fields`.',
      tags: ['auth'],
      security: PUBLIC,
      body: credentialsSchema,
      response: {
        201: {
          description: 'Registered and signed in; the refresh cookie is set.',
          ...signedInBodySchema,
        },
        ...failureResponses([...BODY_ERRORS, 'email_taken', 'rate_limited', ...SERVER_ERRORS]),
      },
    },
  },
  logIn: {
    method: 'POST',
    path: '/auth/login',
    schema: {
      operationId: 'logIn',
      summary: 'Sign in with email and password',
      description:
        'An unknown email and a wrong password get the same answer after the same work. After ' +
        'LOGIN_MAX_FAILURES failures for one email it answers 429 until the window passes, ' +
        'except to a browser that sends a live device cookie (latchkey_device, set by every ' +
        'successful login) of that account: its attempts count against the cookie instead.',
      tags: ['auth'],
      security: PUBLIC,
      body: credentialsSchema,
      response: {
        200: { description: 'Signed in; the refresh cookie is set.', ...signedInBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          'invalid_credentials',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  getStatus: {
    method: 'GET',
    path: '/auth/status',
    schema: { operationId: 'getStatus', summary: 'The signed-in user', ...statusSchema },
  },
  getUser: {
    method: 'GET',
    path: '/auth/user',
    schema: {
      operationId: 'getUser',
      summary: 'The signed-in user (alias of /auth/status)',
      ...statusSchema,
    },
  },
  refresh: {
    method: 'POST',
    path: '/auth/refresh',
    schema: {
      operationId: 'refresh',
      summary: 'Rotate the refresh cookie and get a new access token',
      description:
        'Authenticated by the refresh cookie alone, so it must be sent with Content-Type: ' +
        'application/json (an empty body or {} is fine) from an origin this server serves.',
      tags: ['auth'],
      security: REFRESH_COOKIE,
      response: {
        200: { description: 'A new access token; the rotated cookie is set.', ...tokenBodySchema },
        ...failureResponses([
          'bad_request',
          'unsupported_media_type',
          'payload_too_large',
          'invalid_refresh_token',
          'origin_rejected',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  logOut: {
    method: 'POST',
    path: '/auth/logout',
    schema: {
      operationId: 'logOut',
      summary: 'End the current session (bearer token or refresh cookie)',
      description:
        'Ends the session of the bearer token, or of the refresh cookie, and clears the cookie. ' +
        'With the cookie alone it is a cookie request: JSON content type, known origin.',
      tags: ['auth'],
      security: [...BEARER, ...REFRESH_COOKIE],
      response: {
        200: { description: 'Signed out; the refresh cookie is cleared.', ...messageBodySchema },
        ...failureResponses([
          'bad_request',
          'unsupported_media_type',
          'payload_too_large',
          ...BEARER_ERRORS,
          'invalid_refresh_token',
          'origin_rejected',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  changePassword: {
    method: 'POST',
    path: '/auth/password',
    schema: {
      operationId: 'changePassword',
      summary: 'Change the password; every other session ends',
      tags: ['auth'],
      security: BEARER,
      body: passwordChangeSchema,
      response: {
        200: {
          description: 'Changed; the current session keeps working, every other one ended.',
          ...messageBodySchema,
        },
        ...failureResponses([
          ...BODY_ERRORS,
          ...BEARER_ERRORS,
          'invalid_credentials',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  listSessions: {
    method: 'GET',
    path: '/auth/sessions',
    schema: {
      operationId: 'listSessions',
      summary: "The signed-in user's live sessions",
      tags: ['sessions'],
      security: BEARER,
      response: {
        200: { description: 'Live sessions, newest first.', ...sessionsBodySchema },
        ...failureResponses([...BEARER_ERRORS, ...SERVER_ERRORS]),
      },
    },
  },
  endSession: {
    method: 'DELETE',
    path: '/auth/sessions/:id',
    schema: {
      operationId: 'endSession',
      summary: 'End one session (the current one too: that is a logout)',
      tags: ['sessions'],
      security: BEARER,
      params: sessionIdParamsSchema,
      response: {
        200: {
          description: 'The session ended at once; ending the current one clears the cookie.',
          ...messageBodySchema,
        },
        ...failureResponses([...BEARER_ERRORS, 'not_found', ...SERVER_ERRORS]),
      },
    },
  },
  endOtherSessions: {
    method: 'DELETE',
    path: '/auth/sessions',
    schema: {
      operationId: 'endOtherSessions',
      summary: 'End every session but the current one',
      tags: ['sessions'],
      security: BEARER,
      response: {
        200: { description: 'How many sessions ended.', ...endedBodySchema },
        ...failureResponses([...BEARER_ERRORS, ...SERVER_ERRORS]),
      },
    },
  },
  getJwks: {
    method: 'GET',
    path: '/.well-known/jwks.json',
    schema: {
      operationId: 'getJwks',
      summary: 'Public keys of every signing key still accepted (RFC 7517)',
      description: 'Cached for a minute; verifiers refetch when they meet an unknown kid.',
      tags: ['keys'],
      security: PUBLIC,
      response: {
        200: { description: 'The JSON Web Key Set.', ...jwksBodySchema },
        ...failureResponses(SERVER_ERRORS),
      },
    },
  },
  getHealth: {
    method: 'GET',
    path: '/health',
    schema: {
      operationId: 'getHealth',
      summary: 'Whether the server and its database answer',
      tags: ['health'],
      security: PUBLIC,
      response: {
        200: { description: 'The server and its database answer.', ...healthBodySchema },
        503: { description: 'The database does not answer.', ...healthBodySchema },
        ...failureResponses(['request_timeout', 'request_header_too_large']),
      },
    },
  },
} as const;

/**
 * The operationId of an operation.
 *
 * @example
 * ```ts
 * const id: OperationId = 'logIn';
 * ```
 */
export type OperationId = keyof typeof OPERATIONS;
