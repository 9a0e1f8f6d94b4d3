/**
 * The JSON Schemas of every body on the wire, written once (`as const`) with their TypeScript
 * types derived from them (json-schema-to-ts, type-only: nothing of it reaches a browser bundle).
 * The server validates requests and serializes answers with these schemas, the OpenAPI document is
 * made from them, and clients and tests use the derived types.
 *
 * Request bodies stay open (unknown fields are ignored, docs/api.md); answers are closed, so a
 * field the server does not document cannot leak out (the serializer drops it).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** A second factor, required with the request when the account has one (step-up). */
const proofPropertiesEarly = {
  code: { type: 'string', maxLength: 16, description: 'With a second factor: a TOTP code.' },
  recovery_code: { type: 'string', maxLength: 32, description: 'Or one of the recovery codes.' },
} as const;

/**
 * Body of `POST /auth/register` and `POST /auth/login`. Shape only: what makes an email or a
 * password acceptable is checked by the server, which answers with readable field messages.
 *
 * @example
 * ```ts
 * const body: Credentials = { email: 'ada@example.com', password: 'correct horse battery' };
 * ```
 */
export const credentialsSchema = {
  type: 'object',
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', maxLength: 1024, description: 'Trimmed and compared lower-case.' },
    password: { type: 'string', description: '8 to 256 characters; never truncated.' },
  },
  examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }],
} as const satisfies JSONSchema;
/** @see credentialsSchema */
export type Credentials = FromSchema<typeof credentialsSchema>;

/**
 * Body of `POST /auth/password`.
 *
 * @example
 * ```ts
 * const body: PasswordChange = { current_password: 'old one', new_password: 'a new long one' };
 * ```
 */
export const passwordChangeSchema = {
  type: 'object',
  required: ['current_password', 'new_password'],
  properties: {
    ...proofPropertiesEarly,
    current_password: { type: 'string' },
    new_password: { type: 'string', description: '8 to 256 characters, not a common password.' },
  },
  examples: [
    {
      current_password: 'correct horse battery staple',
      new_password: 'a brand new battery staple',
    },
  ],
} as const satisfies JSONSchema;
/** @see passwordChangeSchema */
export type PasswordChange = FromSchema<typeof passwordChangeSchema>;

/**
 * Body of `POST /auth/email/verify` and `POST /auth/email/change/confirm`: the token from the
 * link's fragment (`#token=…`).
 *
 * @example
 * ```ts
 * const body: EmailTokenRequest = { token: new URLSearchParams(location.hash.slice(1)).get('token') ?? '' };
 * ```
 */
export const emailTokenRequestSchema = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', maxLength: 1024 } },
} as const satisfies JSONSchema;
/** @see emailTokenRequestSchema */
export type EmailTokenRequest = FromSchema<typeof emailTokenRequestSchema>;

/**
 * Body of `POST /auth/password/forgot`.
 *
 * @example
 * ```ts
 * const body: ForgotPassword = { email: 'ada@example.com' };
 * ```
 */
export const forgotPasswordSchema = {
  type: 'object',
  required: ['email'],
  properties: { email: { type: 'string', maxLength: 1024 } },
} as const satisfies JSONSchema;
/** @see forgotPasswordSchema */
export type ForgotPassword = FromSchema<typeof forgotPasswordSchema>;

/**
 * Body of `POST /auth/password/reset`.
 *
 * @example
 * ```ts
 * const body: PasswordReset = { token, new_password: 'a brand new battery staple' };
 * ```
 */
export const passwordResetSchema = {
  type: 'object',
  required: ['token', 'new_password'],
  properties: {
    ...proofPropertiesEarly,
    token: { type: 'string', maxLength: 1024 },
    new_password: { type: 'string', description: '8 to 256 characters, not a common password.' },
  },
} as const satisfies JSONSchema;
/** @see passwordResetSchema */
export type PasswordReset = FromSchema<typeof passwordResetSchema>;

/**
 * Body of `POST /auth/email/change`.
 *
 * @example
 * ```ts
 * const body: EmailChange = { new_email: 'ada@new.example', current_password: 'correct horse' };
 * ```
 */
export const emailChangeSchema = {
  type: 'object',
  required: ['new_email', 'current_password'],
  properties: {
    ...proofPropertiesEarly,
    new_email: { type: 'string', maxLength: 1024 },
    current_password: { type: 'string' },
  },
} as const satisfies JSONSchema;
/** @see emailChangeSchema */
export type EmailChange = FromSchema<typeof emailChangeSchema>;

const success = { type: 'string', const: 'success' } as const;

const tokenProperties = {
  status: success,
  message: { type: 'string' },
  auth_token: { type: 'string', description: 'JWT access token; keep it in memory only.' },
  token_type: { type: 'string', const: 'Bearer' },
  expires_in: { type: 'integer', description: 'Lifetime of auth_token in seconds.' },
} as const;

/**
 * A freshly issued access token (register, login, refresh); sign-ins add a `message`.
 *
 * @example
 * ```ts
 * headers.set('Authorization', `${res.token_type} ${res.auth_token}`);
 * ```
 */
export const tokenBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'auth_token', 'token_type', 'expires_in'],
  properties: tokenProperties,
} as const satisfies JSONSchema;
/** @see tokenBodySchema */
export type TokenBody = FromSchema<typeof tokenBodySchema>;

/**
 * The answer to a sign-in (register, login): a token body with its fixed message.
 *
 * @example
 * ```ts
 * if (body.message === MESSAGES.loggedIn) store(body.auth_token);
 * ```
 */
export const signedInBodySchema = {
  ...tokenBodySchema,
  required: ['status', 'message', 'auth_token', 'token_type', 'expires_in'],
} as const satisfies JSONSchema;
/** @see signedInBodySchema */
export type SignedInBody = FromSchema<typeof signedInBodySchema>;

/**
 * The answer to a registration: signed in, or, with REQUIRE_EMAIL_VERIFICATION, a message alone
 * (no token and no cookie until the address is verified and the user logs in).
 *
 * @example
 * ```ts
 * if ('auth_token' in body) store(body.auth_token); else show(body.message);
 * ```
 */
export const registeredBodySchema = {
  anyOf: [
    signedInBodySchema,
    {
      type: 'object',
      additionalProperties: false,
      required: ['status', 'message'],
      properties: { status: success, message: { type: 'string' } },
    },
  ],
} as const satisfies JSONSchema;
/** @see registeredBodySchema */
export type RegisteredBody = FromSchema<typeof registeredBodySchema>;

/**
 * A success that carries only a message (logout, session deletion, password change).
 *
 * @example
 * ```ts
 * const ok: MessageBody = { status: 'success', message: 'Successfully logged out.' };
 * ```
 */
export const messageBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'message'],
  properties: { status: success, message: { type: 'string' } },
} as const satisfies JSONSchema;
/** @see messageBodySchema */
export type MessageBody = FromSchema<typeof messageBodySchema>;

/**
 * The signed-in user, as `GET /auth/status` returns it.
 *
 * @example
 * ```ts
 * const since = new Date(user.registered_on);
 * ```
 */
export const userDataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['user_id', 'email', 'email_verified', 'admin', 'registered_on'],
  properties: {
    user_id: { type: 'string', description: "Equals the access token's sub claim." },
    email: { type: 'string' },
    email_verified: {
      type: 'boolean',
      description: 'Whether the address was verified (a link followed, or a password reset).',
    },
    admin: { type: 'boolean' },
    registered_on: { type: 'string', format: 'date-time', description: 'ISO 8601, UTC.' },
  },
} as const satisfies JSONSchema;
/** @see userDataSchema */
export type UserData = FromSchema<typeof userDataSchema>;

/**
 * Body of `GET /auth/status`.
 *
 * @example
 * ```ts
 * const { data } = (await res.json()) as StatusBody;
 * ```
 */
export const statusBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data'],
  properties: { status: success, data: userDataSchema },
} as const satisfies JSONSchema;
/** @see statusBodySchema */
export type StatusBody = FromSchema<typeof statusBodySchema>;

/**
 * One session of the signed-in user (`GET /auth/sessions`). Times are ISO 8601, UTC.
 *
 * @example
 * ```ts
 * const others = body.data.filter((s: SessionData) => !s.current);
 * ```
 */
export const sessionDataSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'created_at', 'last_used_at', 'expires_at', 'user_agent', 'ip', 'current'],
  properties: {
    id: { type: 'string', description: "Equals the sid claim of this session's access tokens." },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: 'string', format: 'date-time', description: 'Last sign-in or refresh.' },
    expires_at: {
      type: 'string',
      format: 'date-time',
      description: 'When the session ends unless it is refreshed before.',
    },
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    current: {
      type: 'boolean',
      description: 'True for the session of the token that made the request.',
    },
  },
} as const satisfies JSONSchema;
/** @see sessionDataSchema */
export type SessionData = FromSchema<typeof sessionDataSchema>;

/**
 * Body of `GET /auth/sessions`.
 *
 * @example
 * ```ts
 * const { data } = (await res.json()) as SessionsBody;
 * ```
 */
export const sessionsBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data'],
  properties: { status: success, data: { type: 'array', items: sessionDataSchema } },
} as const satisfies JSONSchema;
/** @see sessionsBodySchema */
export type SessionsBody = FromSchema<typeof sessionsBodySchema>;

/**
 * Body of `DELETE /auth/sessions`: how many other sessions ended.
 *
 * @example
 * ```ts
 * console.log(`${body.data.ended} sessions signed out`);
 * ```
 */
export const endedBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'message', 'data'],
  properties: {
    status: success,
    message: { type: 'string' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['ended'],
      properties: { ended: { type: 'integer', minimum: 0 } },
    },
  },
} as const satisfies JSONSchema;
/** @see endedBodySchema */
export type EndedBody = FromSchema<typeof endedBodySchema>;

/**
 * Path parameters naming one session.
 *
 * @example
 * ```ts
 * const url = `/auth/sessions/${encodeURIComponent(params.id)}`;
 * ```
 */
export const sessionIdParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', description: 'A session id from GET /auth/sessions.' } },
} as const satisfies JSONSchema;
/** @see sessionIdParamsSchema */
export type SessionIdParams = FromSchema<typeof sessionIdParamsSchema>;

/**
 * `GET /.well-known/jwks.json` (RFC 7517): the public keys of every signing key still accepted.
 *
 * @example
 * ```ts
 * const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', issuer));
 * ```
 */
export const jwksBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kty', 'kid'],
        properties: {
          kty: { type: 'string' },
          kid: { type: 'string' },
          alg: { type: 'string' },
          use: { type: 'string' },
          crv: { type: 'string' },
          x: { type: 'string' },
        },
        additionalProperties: true,
      },
    },
  },
} as const satisfies JSONSchema;
/** @see jwksBodySchema */
export type JwksBody = FromSchema<typeof jwksBodySchema>;

/**
 * `GET /health`: `ok` when the database answers, `unavailable` (503) otherwise.
 *
 * @example
 * ```ts
 * const healthy = (await res.json()).status === 'ok';
 * ```
 */
export const healthBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok', 'unavailable'] } },
} as const satisfies JSONSchema;
/** @see healthBodySchema */
export type HealthBody = FromSchema<typeof healthBodySchema>;

const isoTime = { type: 'string', format: 'date-time' } as const;
const cursor = {
  type: ['string', 'null'],
  description: 'Pass as `cursor` for the next page; null on the last one.',
} as const;
/** `limit` of a paged list: 1 to 100, as a query string (query values are not coerced). */
const limitParameter = {
  type: 'string',
  pattern: '^(100|[1-9][0-9]?)$',
  description: '1 to 100 (default 50).',
} as const;

/**
 * One account as an admin sees it (`GET /admin/users`).
 *
 * @example
 * ```ts
 * const active = body.data.filter((u: AdminUser) => !u.disabled);
 * ```
 */
export const adminUserSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'user_id',
    'email',
    'email_verified',
    'admin',
    'disabled',
    'registered_on',
    'last_login_at',
  ],
  properties: {
    user_id: { type: 'string' },
    email: { type: 'string' },
    email_verified: { type: 'boolean' },
    admin: { type: 'boolean' },
    disabled: { type: 'boolean' },
    registered_on: isoTime,
    last_login_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const satisfies JSONSchema;
/** @see adminUserSchema */
export type AdminUser = FromSchema<typeof adminUserSchema>;

/**
 * `GET /admin/users`: a page of accounts, oldest first.
 *
 * @example
 * ```ts
 * const next = body.next_cursor && `/admin/users?cursor=${body.next_cursor}`;
 * ```
 */
export const adminUsersBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data', 'next_cursor'],
  properties: {
    status: success,
    data: { type: 'array', items: adminUserSchema },
    next_cursor: cursor,
  },
} as const satisfies JSONSchema;
/** @see adminUsersBodySchema */
export type AdminUsersBody = FromSchema<typeof adminUsersBodySchema>;

/**
 * `GET /admin/users/:id`: the account and its live sessions.
 *
 * @example
 * ```ts
 * const { sessions } = body.data;
 * ```
 */
export const adminUserBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data'],
  properties: {
    status: success,
    data: {
      ...adminUserSchema,
      required: [...adminUserSchema.required, 'sessions'],
      properties: {
        ...adminUserSchema.properties,
        sessions: { type: 'array', items: sessionDataSchema },
      },
    },
  },
} as const satisfies JSONSchema;
/** @see adminUserBodySchema */
export type AdminUserBody = FromSchema<typeof adminUserBodySchema>;

/**
 * Query of `GET /admin/users`.
 *
 * @example
 * ```ts
 * const query: AdminUsersQuery = { query: 'example.com', limit: '20' };
 * ```
 */
export const adminUsersQuerySchema = {
  type: 'object',
  properties: {
    query: { type: 'string', maxLength: 254, description: 'Part of the email.' },
    limit: limitParameter,
    cursor: { type: 'string', maxLength: 200 },
  },
} as const satisfies JSONSchema;
/** @see adminUsersQuerySchema */
export type AdminUsersQuery = FromSchema<typeof adminUsersQuerySchema>;

/**
 * Path parameters naming one account.
 *
 * @example
 * ```ts
 * const url = `/admin/users/${encodeURIComponent(params.id)}`;
 * ```
 */
export const userIdParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const satisfies JSONSchema;
/** @see userIdParamsSchema */
export type UserIdParams = FromSchema<typeof userIdParamsSchema>;

/**
 * Body of `POST /admin/users/:id/admin`.
 *
 * @example
 * ```ts
 * const body: AdminRoleChange = { admin: true };
 * ```
 */
export const adminRoleChangeSchema = {
  type: 'object',
  required: ['admin'],
  properties: { admin: { type: 'boolean' } },
} as const satisfies JSONSchema;
/** @see adminRoleChangeSchema */
export type AdminRoleChange = FromSchema<typeof adminRoleChangeSchema>;

/**
 * One security event of the audit log. Never a password, token, cookie or link.
 *
 * @example
 * ```ts
 * const failures = body.data.filter((e: AuditEventData) => e.type === 'login_failed');
 * ```
 */
export const auditEventSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'user_id', 'actor_id', 'ip', 'user_agent', 'created_at', 'detail'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', description: 'registered, login_succeeded, login_failed, …' },
    user_id: { type: ['string', 'null'] },
    actor_id: { type: ['string', 'null'], description: 'The admin who did it, if not the user.' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
    created_at: isoTime,
    detail: {
      type: 'object',
      description: 'Ids, reasons and counts, such as session_id and reason.',
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    },
  },
} as const satisfies JSONSchema;
/** @see auditEventSchema */
export type AuditEventData = FromSchema<typeof auditEventSchema>;

/**
 * A page of the audit log, newest first (`GET /auth/events`, `GET /admin/events`).
 *
 * @example
 * ```ts
 * for (const event of body.data) console.log(event.type, event.created_at);
 * ```
 */
export const auditEventsBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data', 'next_cursor'],
  properties: {
    status: success,
    data: { type: 'array', items: auditEventSchema },
    next_cursor: cursor,
  },
} as const satisfies JSONSchema;
/** @see auditEventsBodySchema */
export type AuditEventsBody = FromSchema<typeof auditEventsBodySchema>;

/**
 * Query of `GET /auth/events` (`limit`, `cursor`) and `GET /admin/events` (also `user_id`, `type`).
 *
 * @example
 * ```ts
 * const query: AuditEventsQuery = { type: 'login_failed', limit: '20' };
 * ```
 */
export const auditEventsQuerySchema = {
  type: 'object',
  properties: {
    user_id: { type: 'string', maxLength: 64 },
    type: { type: 'string', maxLength: 64 },
    limit: limitParameter,
    cursor: { type: 'string', maxLength: 200 },
  },
} as const satisfies JSONSchema;
/** @see auditEventsQuerySchema */
export type AuditEventsQuery = FromSchema<typeof auditEventsQuerySchema>;

const proofProperties = proofPropertiesEarly;

/**
 * A login with the right password of an account with a second factor (202): no token and no
 * cookie yet; `POST /auth/login/mfa` with `mfa_token` and a code finishes it.
 *
 * @example
 * ```ts
 * if (res.status === 202) askForCode(body.mfa_token);
 * ```
 */
export const mfaChallengeBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'message', 'mfa_token', 'mfa_methods'],
  properties: {
    status: success,
    message: { type: 'string' },
    mfa_token: {
      type: 'string',
      description: 'Single use, five minutes; only for /auth/login/mfa.',
    },
    mfa_methods: { type: 'array', items: { type: 'string', enum: ['totp', 'recovery_code'] } },
  },
} as const satisfies JSONSchema;
/** @see mfaChallengeBodySchema */
export type MfaChallengeBody = FromSchema<typeof mfaChallengeBodySchema>;

/**
 * Body of `POST /auth/login/mfa`: the pending sign-in and a code or a recovery code.
 *
 * @example
 * ```ts
 * const body: MfaLogin = { mfa_token, code: '123456' };
 * ```
 */
export const mfaLoginSchema = {
  type: 'object',
  required: ['mfa_token'],
  properties: { mfa_token: { type: 'string', maxLength: 128 }, ...proofProperties },
} as const satisfies JSONSchema;
/** @see mfaLoginSchema */
export type MfaLogin = FromSchema<typeof mfaLoginSchema>;

/**
 * A second-factor proof for step-up (`POST /auth/mfa/recovery-codes`).
 *
 * @example
 * ```ts
 * const body: FactorProof = { code: '123456' };
 * ```
 */
export const factorProofSchema = {
  type: 'object',
  properties: proofProperties,
} as const satisfies JSONSchema;
/** @see factorProofSchema */
export type FactorProof = FromSchema<typeof factorProofSchema>;

/**
 * Body of `POST /auth/mfa/totp` (start enrolment) and, with a proof, `/auth/mfa/totp/remove`.
 *
 * @example
 * ```ts
 * const body: TotpRemoval = { current_password: 'correct horse', code: '123456' };
 * ```
 */
export const totpRemovalSchema = {
  type: 'object',
  required: ['current_password'],
  properties: { current_password: { type: 'string' }, ...proofProperties },
} as const satisfies JSONSchema;
/** @see totpRemovalSchema */
export type TotpRemoval = FromSchema<typeof totpRemovalSchema>;

/**
 * Body of `POST /auth/mfa/totp/confirm`.
 *
 * @example
 * ```ts
 * const body: TotpConfirmation = { code: '123456' };
 * ```
 */
export const totpConfirmationSchema = {
  type: 'object',
  required: ['code'],
  properties: { code: proofProperties.code },
} as const satisfies JSONSchema;
/** @see totpConfirmationSchema */
export type TotpConfirmation = FromSchema<typeof totpConfirmationSchema>;

/**
 * `POST /auth/mfa/totp`: the new secret as text, an otpauth:// URL and its QR code (SVG).
 *
 * @example
 * ```ts
 * qr.innerHTML = body.data.qr_svg;
 * ```
 */
export const totpEnrolmentBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data'],
  properties: {
    status: success,
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['secret', 'otpauth_url', 'qr_svg'],
      properties: {
        secret: { type: 'string', description: 'Base32, for typing into the app.' },
        otpauth_url: { type: 'string' },
        qr_svg: { type: 'string' },
      },
    },
  },
} as const satisfies JSONSchema;
/** @see totpEnrolmentBodySchema */
export type TotpEnrolmentBody = FromSchema<typeof totpEnrolmentBodySchema>;

/**
 * Fresh recovery codes, shown once (`/auth/mfa/totp/confirm`, `/auth/mfa/recovery-codes`).
 *
 * @example
 * ```ts
 * download(body.data.recovery_codes.join('\n'));
 * ```
 */
export const recoveryCodesBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'message', 'data'],
  properties: {
    status: success,
    message: { type: 'string' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['recovery_codes'],
      properties: { recovery_codes: { type: 'array', items: { type: 'string' } } },
    },
  },
} as const satisfies JSONSchema;
/** @see recoveryCodesBodySchema */
export type RecoveryCodesBody = FromSchema<typeof recoveryCodesBodySchema>;

/**
 * `GET /auth/mfa`: the second factors of the signed-in user.
 *
 * @example
 * ```ts
 * if (!body.data.totp) offerTwoStep();
 * ```
 */
export const secondFactorsBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'data'],
  properties: {
    status: success,
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['totp', 'recovery_codes_left'],
      properties: { totp: { type: 'boolean' }, recovery_codes_left: { type: 'integer' } },
    },
  },
} as const satisfies JSONSchema;
/** @see secondFactorsBodySchema */
export type SecondFactorsBody = FromSchema<typeof secondFactorsBodySchema>;
