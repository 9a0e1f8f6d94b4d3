/**
 * JSON Schemas of the routes: Fastify validates bodies with them (Ajv, no type coercion) and
 * @fastify/swagger turns them into the OpenAPI document. Shape only: the rules of an acceptable
 * email or password live in services/credential-rules.ts, so they answer with readable messages.
 */

const failure = {
  type: 'object',
  required: ['status', 'code', 'message'],
  properties: {
    status: { type: 'string', const: 'fail' },
    code: { type: 'string', description: 'Stable error code; see docs/api.md.' },
    message: { type: 'string' },
    fields: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

const failures = { '4xx': failure, '5xx': failure } as const;

const tokenBody = (withMessage: boolean) =>
  ({
    type: 'object',
    required: [
      'status',
      'auth_token',
      'token_type',
      'expires_in',
      ...(withMessage ? ['message'] : []),
    ],
    properties: {
      status: { type: 'string', const: 'success' },
      ...(withMessage ? { message: { type: 'string' } } : {}),
      auth_token: { type: 'string', description: 'JWT access token; keep it in memory only.' },
      token_type: { type: 'string', const: 'Bearer' },
      expires_in: { type: 'integer', description: 'Lifetime of auth_token in seconds.' },
    },
  }) as const;

const message = {
  type: 'object',
  required: ['status', 'message'],
  properties: { status: { type: 'string', const: 'success' }, message: { type: 'string' } },
} as const;

const credentials = {
  type: 'object',
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', maxLength: 1024 },
    password: { type: 'string', description: '8 to 256 characters; never truncated.' },
  },
} as const;

const bearer = [{ bearer: [] }];
const refreshCookie = [{ refreshCookie: [] }];

export const registerSchema = {
  summary: 'Create an account and sign in',
  tags: ['auth'],
  body: credentials,
  response: { 201: tokenBody(true), ...failures },
} as const;

export const loginSchema = {
  summary: 'Sign in with email and password',
  tags: ['auth'],
  body: credentials,
  response: { 200: tokenBody(true), ...failures },
} as const;

export const statusSchema = {
  summary: 'The signed-in user',
  tags: ['auth'],
  security: bearer,
  response: {
    200: {
      type: 'object',
      required: ['status', 'data'],
      properties: {
        status: { type: 'string', const: 'success' },
        data: {
          type: 'object',
          required: ['user_id', 'email', 'admin', 'registered_on'],
          properties: {
            user_id: { type: 'string' },
            email: { type: 'string' },
            admin: { type: 'boolean' },
            registered_on: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    ...failures,
  },
} as const;

export const refreshSchema = {
  summary: 'Rotate the refresh cookie and get a new access token',
  tags: ['auth'],
  security: refreshCookie,
  response: { 200: tokenBody(false), ...failures },
} as const;

export const logoutSchema = {
  summary: 'End the current session (bearer token or refresh cookie)',
  tags: ['auth'],
  security: [...bearer, ...refreshCookie],
  response: { 200: message, ...failures },
} as const;

export const passwordSchema = {
  summary: 'Change the password; every other session ends',
  tags: ['auth'],
  security: bearer,
  body: {
    type: 'object',
    required: ['current_password', 'new_password'],
    properties: {
      current_password: { type: 'string' },
      new_password: { type: 'string', description: '8 to 256 characters, not a common password.' },
    },
  },
  response: { 200: message, ...failures },
} as const;

const session = {
  type: 'object',
  required: ['id', 'created_at', 'last_used_at', 'expires_at', 'user_agent', 'ip', 'current'],
  properties: {
    id: { type: 'string', description: 'Equals the sid claim of the session’s access tokens.' },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: 'string', format: 'date-time', description: 'Last sign-in or refresh.' },
    expires_at: {
      type: 'string',
      format: 'date-time',
      description: 'End unless refreshed before.',
    },
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
} as const;

export const listSessionsSchema = {
  summary: 'The signed-in user’s live sessions',
  tags: ['sessions'],
  security: bearer,
  response: {
    200: {
      type: 'object',
      required: ['status', 'data'],
      properties: {
        status: { type: 'string', const: 'success' },
        data: { type: 'array', items: session },
      },
    },
    ...failures,
  },
} as const;

export const endSessionSchema = {
  summary: 'End one session (the current one too: that is a logout)',
  tags: ['sessions'],
  security: bearer,
  params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
  response: { 200: message, ...failures },
} as const;

export const endOtherSessionsSchema = {
  summary: 'End every session but the current one',
  tags: ['sessions'],
  security: bearer,
  response: {
    200: {
      type: 'object',
      required: ['status', 'message', 'data'],
      properties: {
        status: { type: 'string', const: 'success' },
        message: { type: 'string' },
        data: { type: 'object', required: ['ended'], properties: { ended: { type: 'integer' } } },
      },
    },
    ...failures,
  },
} as const;

export const jwksSchema = {
  summary: 'Public keys of every signing key still accepted (RFC 7517)',
  tags: ['keys'],
  response: {
    200: {
      type: 'object',
      required: ['keys'],
      properties: {
        keys: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
    },
  },
} as const;

export const healthSchema = {
  summary: 'Whether the server and its database answer',
  tags: ['health'],
  response: {
    200: { type: 'object', properties: { status: { type: 'string', const: 'ok' } } },
    503: { type: 'object', properties: { status: { type: 'string', const: 'unavailable' } } },
  },
} as const;
