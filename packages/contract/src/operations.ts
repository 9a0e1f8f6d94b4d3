/**
 * Every operation of the API, defined once: method, path, OpenAPI fields (operationId, summary,
 * security, tags) and the JSON Schemas of its request and of each answer, failures included with
 * their codes enumerated by status. The server registers its routes from these (Fastify validates
 * and serializes with the schemas, and a type provider checks each handler against them), and the
 * OpenAPI document at `/openapi.json` is generated from the same objects.
 */
import { failureResponses } from './failure-body.ts';
import {
  factorProofSchema,
  mfaChallengeBodySchema,
  mfaLoginSchema,
  recoveryCodesBodySchema,
  secondFactorsBodySchema,
  totpConfirmationSchema,
  totpEnrolmentBodySchema,
  totpRemovalSchema,
  adminRoleChangeSchema,
  adminUserBodySchema,
  adminUsersBodySchema,
  adminUsersQuerySchema,
  auditEventsBodySchema,
  auditEventsQuerySchema,
  userIdParamsSchema,
  credentialsSchema,
  emailChangeSchema,
  emailTokenRequestSchema,
  endedBodySchema,
  forgotPasswordSchema,
  healthBodySchema,
  jwksBodySchema,
  messageBodySchema,
  passwordChangeSchema,
  passwordResetSchema,
  registeredBodySchema,
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
  {
    name: 'email',
    description:
      'Verify the address, reset a forgotten password, change the email. Links carry their ' +
      'token in the URL fragment; only the POST spends it.',
  },
  {
    name: 'mfa',
    description: 'Second factors: an authenticator app (TOTP) and recovery codes.',
  },
  {
    name: 'admin',
    description: 'Operators: accounts (disable, enable, role, sessions, delete) and the audit log.',
  },
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

/** An admin route: a bearer token of an admin (others 403 `forbidden`). */
const ADMIN_ERRORS = [...BEARER_ERRORS, 'forbidden'] as const;

const myEventsQuerySchema = {
  type: 'object',
  properties: {
    limit: auditEventsQuerySchema.properties.limit,
    cursor: auditEventsQuerySchema.properties.cursor,
  },
} as const;

/** An admin action on one account, answering a message. */
const adminAction = (
  operationId: string,
  method: 'POST' | 'DELETE',
  summary: string,
  description: string,
) =>
  ({
    operationId,
    summary,
    description,
    tags: ['admin'],
    security: BEARER,
    params: userIdParamsSchema,
    response: {
      200: { description: 'Done.', ...messageBodySchema },
      ...failureResponses([
        'bad_request',
        'unsupported_media_type',
        'payload_too_large',
        'validation_failed',
        ...ADMIN_ERRORS,
        'not_found',
        ...SERVER_ERRORS,
      ]),
    },
  }) as const;

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
          description:
            'Registered and signed in (the refresh cookie is set); with ' +
            'REQUIRE_EMAIL_VERIFICATION, registered only: a message, no token, no cookie. A ' +
            'verification link is mailed either way.',
          ...registeredBodySchema,
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
        202: {
          description:
            'The right password of an account with a second factor: no token or cookie yet; ' +
            'finish with POST /auth/login/mfa.',
          ...mfaChallengeBodySchema,
        },
        ...failureResponses([
          ...BODY_ERRORS,
          'invalid_credentials',
          'email_not_verified',
          'account_disabled',
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
          'mfa_required',
          'invalid_mfa_code',
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
  requestEmailVerification: {
    method: 'POST',
    path: '/auth/email/verify/request',
    schema: {
      operationId: 'requestEmailVerification',
      summary: 'Mail a new verification link',
      description:
        'Unless the address is verified already. One mail per EMAIL_RESEND_INTERVAL seconds ' +
        'per account; a new link makes older ones unusable. Send `{}` as the body.',
      tags: ['email'],
      security: BEARER,
      response: {
        202: { description: 'A link is on its way (or already verified).', ...messageBodySchema },
        ...failureResponses([
          'bad_request',
          'unsupported_media_type',
          'payload_too_large',
          ...BEARER_ERRORS,
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  verifyEmail: {
    method: 'POST',
    path: '/auth/email/verify',
    schema: {
      operationId: 'verifyEmail',
      summary: 'Verify the address with the token of a verification link',
      description: 'Does not sign in. Each token works once.',
      tags: ['email'],
      security: PUBLIC,
      body: emailTokenRequestSchema,
      response: {
        200: { description: 'The address is verified.', ...messageBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          'invalid_email_token',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  forgotPassword: {
    method: 'POST',
    path: '/auth/password/forgot',
    schema: {
      operationId: 'forgotPassword',
      summary: 'Mail a password reset link',
      description:
        'The same answer, status and timing whether or not an account exists. Limited per ' +
        'email (one per EMAIL_RESEND_INTERVAL seconds, unknown emails alike) and per IP.',
      tags: ['email'],
      security: PUBLIC,
      body: forgotPasswordSchema,
      response: {
        202: { description: 'A link is on its way if the account exists.', ...messageBodySchema },
        ...failureResponses([...BODY_ERRORS, 'rate_limited', ...SERVER_ERRORS]),
      },
    },
  },
  resetPassword: {
    method: 'POST',
    path: '/auth/password/reset',
    schema: {
      operationId: 'resetPassword',
      summary: 'Set a new password with the token of a reset link',
      description:
        'Every session of the account ends at once, the address counts as verified and the ' +
        'failed-login count is cleared. A new password the rules refuse does not spend the token.',
      tags: ['email'],
      security: PUBLIC,
      body: passwordResetSchema,
      response: {
        200: { description: 'The password is changed; log in with it.', ...messageBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          'invalid_email_token',
          'rate_limited',
          'mfa_required',
          'invalid_mfa_code',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  changeEmail: {
    method: 'POST',
    path: '/auth/email/change',
    schema: {
      operationId: 'changeEmail',
      summary: 'Ask to change the email address',
      description:
        'Needs the current password (it counts towards the login limit). A confirmation link ' +
        'goes to the new address and a notice to the current one; nothing changes until the ' +
        'link is followed.',
      tags: ['email'],
      security: BEARER,
      body: emailChangeSchema,
      response: {
        202: { description: 'The confirmation link is on its way.', ...messageBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          ...BEARER_ERRORS,
          'invalid_credentials',
          'email_taken',
          'rate_limited',
          'mfa_required',
          'invalid_mfa_code',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  confirmEmailChange: {
    method: 'POST',
    path: '/auth/email/change/confirm',
    schema: {
      operationId: 'confirmEmailChange',
      summary: 'Confirm a new email address with the token of its link',
      tags: ['email'],
      security: PUBLIC,
      body: emailTokenRequestSchema,
      response: {
        200: { description: 'The email is the new one, verified.', ...messageBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          'invalid_email_token',
          'email_taken',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  completeLogin: {
    method: 'POST',
    path: '/auth/login/mfa',
    schema: {
      operationId: 'completeLogin',
      summary: 'Finish a sign-in with a second factor',
      description:
        'The mfa_token of the 202 login answer (single use, five minutes) with a TOTP code or a ' +
        'recovery code. Codes have their own limit (5 wrong per 15 minutes), apart from passwords.',
      tags: ['mfa'],
      security: PUBLIC,
      body: mfaLoginSchema,
      response: {
        200: { description: 'Signed in; the refresh cookie is set.', ...signedInBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          'mfa_required',
          'invalid_mfa_code',
          'invalid_mfa_token',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  getSecondFactors: {
    method: 'GET',
    path: '/auth/mfa',
    schema: {
      operationId: 'getSecondFactors',
      summary: "The signed-in user's second factors",
      tags: ['mfa'],
      security: BEARER,
      response: {
        200: { description: 'What is enrolled.', ...secondFactorsBodySchema },
        ...failureResponses([...BEARER_ERRORS, ...SERVER_ERRORS]),
      },
    },
  },
  startTotp: {
    method: 'POST',
    path: '/auth/mfa/totp',
    schema: {
      operationId: 'startTotp',
      summary: 'Start enrolling an authenticator app (TOTP)',
      description:
        'Needs the current password. Answers a new 160-bit secret with its QR code; nothing is ' +
        'active until POST /auth/mfa/totp/confirm with a first code.',
      tags: ['mfa'],
      security: BEARER,
      body: totpRemovalSchema,
      response: {
        200: { description: 'The secret to scan.', ...totpEnrolmentBodySchema },
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
  confirmTotp: {
    method: 'POST',
    path: '/auth/mfa/totp/confirm',
    schema: {
      operationId: 'confirmTotp',
      summary: 'Turn on the authenticator with its first code; answers the recovery codes',
      tags: ['mfa'],
      security: BEARER,
      body: totpConfirmationSchema,
      response: {
        200: { description: 'On; the recovery codes, shown once.', ...recoveryCodesBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          ...BEARER_ERRORS,
          'invalid_mfa_code',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  removeTotp: {
    method: 'POST',
    path: '/auth/mfa/totp/remove',
    schema: {
      operationId: 'removeTotp',
      summary: 'Turn off the authenticator; every other session ends',
      description: 'Needs the current password and a code or a recovery code.',
      tags: ['mfa'],
      security: BEARER,
      body: totpRemovalSchema,
      response: {
        200: { description: 'Off.', ...messageBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          ...BEARER_ERRORS,
          'invalid_credentials',
          'mfa_required',
          'invalid_mfa_code',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  regenerateRecoveryCodes: {
    method: 'POST',
    path: '/auth/mfa/recovery-codes',
    schema: {
      operationId: 'regenerateRecoveryCodes',
      summary: 'New recovery codes (the old ones stop working)',
      description: 'Needs a code or a recovery code.',
      tags: ['mfa'],
      security: BEARER,
      body: factorProofSchema,
      response: {
        200: { description: 'The new codes, shown once.', ...recoveryCodesBodySchema },
        ...failureResponses([
          ...BODY_ERRORS,
          ...BEARER_ERRORS,
          'mfa_required',
          'invalid_mfa_code',
          'rate_limited',
          ...SERVER_ERRORS,
        ]),
      },
    },
  },
  listMyEvents: {
    method: 'GET',
    path: '/auth/events',
    schema: {
      operationId: 'listMyEvents',
      summary: "The signed-in user's own security events, newest first",
      tags: ['auth'],
      security: BEARER,
      querystring: myEventsQuerySchema,
      response: {
        200: { description: 'A page of events.', ...auditEventsBodySchema },
        ...failureResponses(['validation_failed', ...BEARER_ERRORS, ...SERVER_ERRORS]),
      },
    },
  },
  listUsers: {
    method: 'GET',
    path: '/admin/users',
    schema: {
      operationId: 'listUsers',
      summary: 'Accounts, oldest first, optionally those whose email contains `query`',
      tags: ['admin'],
      security: BEARER,
      querystring: adminUsersQuerySchema,
      response: {
        200: { description: 'A page of accounts.', ...adminUsersBodySchema },
        ...failureResponses(['validation_failed', ...ADMIN_ERRORS, ...SERVER_ERRORS]),
      },
    },
  },
  getAdminUser: {
    method: 'GET',
    path: '/admin/users/:id',
    schema: {
      operationId: 'getAdminUser',
      summary: 'One account with its live sessions',
      tags: ['admin'],
      security: BEARER,
      params: userIdParamsSchema,
      response: {
        200: { description: 'The account.', ...adminUserBodySchema },
        ...failureResponses([...ADMIN_ERRORS, 'not_found', ...SERVER_ERRORS]),
      },
    },
  },
  disableUser: {
    method: 'POST',
    path: '/admin/users/:id/disable',
    schema: adminAction(
      'disableUser',
      'POST',
      'Disable an account: every session ends at once',
      'Its tokens answer 401 on every instance from the next request; a login with the right ' +
        'password answers 403 account_disabled. Not your own account (400).',
    ),
  },
  enableUser: {
    method: 'POST',
    path: '/admin/users/:id/enable',
    schema: adminAction('enableUser', 'POST', 'Enable a disabled account', 'It may sign in again.'),
  },
  setUserAdmin: {
    method: 'POST',
    path: '/admin/users/:id/admin',
    schema: {
      ...adminAction(
        'setUserAdmin',
        'POST',
        'Grant or remove the admin role',
        'Not your own role (400): an admin cannot demote themselves.',
      ),
      body: adminRoleChangeSchema,
    },
  },
  endUserSessions: {
    method: 'DELETE',
    path: '/admin/users/:id/sessions',
    schema: {
      ...adminAction('endUserSessions', 'DELETE', 'End every session of an account', 'At once.'),
      response: {
        200: { description: 'How many ended.', ...endedBodySchema },
        ...failureResponses([...ADMIN_ERRORS, 'not_found', ...SERVER_ERRORS]),
      },
    },
  },
  deleteUser: {
    method: 'DELETE',
    path: '/admin/users/:id',
    schema: adminAction(
      'deleteUser',
      'DELETE',
      'Delete an account and its sessions',
      'At once; its email can register again; its audit events stay. Not your own (400).',
    ),
  },
  resetUserSecondFactors: {
    method: 'POST',
    path: '/admin/users/:id/mfa/reset',
    schema: adminAction(
      'resetUserSecondFactors',
      'POST',
      'Remove the second factors of an account that lost them',
      'Removes the authenticator and the recovery codes and ends every session, audited with ' +
        'the admin; the user signs in with the password alone and sets up a new one. Not your own (400).',
    ),
  },
  listEvents: {
    method: 'GET',
    path: '/admin/events',
    schema: {
      operationId: 'listEvents',
      summary: 'The audit log, newest first, filtered by user and type',
      tags: ['admin'],
      security: BEARER,
      querystring: auditEventsQuerySchema,
      response: {
        200: { description: 'A page of events.', ...auditEventsBodySchema },
        ...failureResponses(['validation_failed', ...ADMIN_ERRORS, ...SERVER_ERRORS]),
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
