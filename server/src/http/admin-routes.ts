import { MESSAGES, OPERATIONS } from '@latchkey/contract';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessClaims } from '../services/access-tokens.ts';
import type { Actor, Admin, AuditEvent, Page, UserRecord } from '../services/admin.ts';
import type { ClientInfo } from '../services/sessions.ts';
import { route } from './route.ts';
import { sessionDataOf } from './session-data.ts';

export interface AdminRoutesDeps {
  admin: Admin;
  authenticate: (request: FastifyRequest) => Promise<void>;
  clientOf: (request: FastifyRequest) => ClientInfo;
  claimsOf: (request: FastifyRequest) => AccessClaims;
}

const DEFAULT_LIMIT = 50;
const iso = (ms: number): string => new Date(ms).toISOString();
const limitOf = (raw: string | undefined) => (raw === undefined ? DEFAULT_LIMIT : Number(raw));

const userOf = (user: UserRecord) => ({
  user_id: user.id,
  email: user.email,
  email_verified: user.emailVerifiedAt !== null,
  admin: user.admin,
  disabled: user.disabledAt !== null,
  registered_on: iso(user.createdAt),
  last_login_at: user.lastLoginAt === null ? null : iso(user.lastLoginAt),
});

/** An audit event on the wire. */
const auditEventOf = (event: AuditEvent) => ({
  id: event.id,
  type: event.type,
  user_id: event.userId,
  actor_id: event.actorId,
  ip: event.ip,
  user_agent: event.userAgent,
  created_at: iso(event.createdAt),
  detail: event.detail,
});

/** A page of audit events on the wire. */
const eventsPage = (found: Page<AuditEvent>) =>
  ({
    status: 'success',
    data: found.items.map(auditEventOf),
    next_cursor: found.nextCursor,
  }) as const;

/**
 * `/admin` (v2 contract, "Admin API") and the user's own `GET /auth/events`, registered inside
 * the API plugin so they share its hooks and headers. Every admin route checks the role in the
 * database on each request (not the 30-second user cache): a removed admin is out at once.
 */
export function registerAdminRoutes(fastify: FastifyInstance, deps: AdminRoutesDeps): void {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>();
  const { admin, authenticate, clientOf, claimsOf } = deps;
  const adminOnly = async (request: FastifyRequest) => {
    await authenticate(request);
    await admin.requireAdmin(claimsOf(request).sub);
  };
  const actorOf = (request: FastifyRequest): Actor => ({
    id: claimsOf(request).sub,
    client: clientOf(request),
  });

  app.route({
    ...route(OPERATIONS.listMyEvents),
    preHandler: authenticate,
    handler: async (request) => {
      const { limit, cursor } = request.query;
      const found = await admin.listEvents({
        userId: claimsOf(request).sub,
        limit: limitOf(limit),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return eventsPage(found);
    },
  });

  app.route({
    ...route(OPERATIONS.listUsers),
    preHandler: adminOnly,
    handler: async (request) => {
      const { query, limit, cursor } = request.query;
      const found = await admin.listUsers({
        ...(query === undefined ? {} : { query }),
        limit: limitOf(limit),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return {
        status: 'success',
        data: found.items.map(userOf),
        next_cursor: found.nextCursor,
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.getAdminUser),
    preHandler: adminOnly,
    handler: async (request) => {
      const { user, sessions } = await admin.getUser(request.params.id);
      return {
        status: 'success',
        data: { ...userOf(user), sessions: sessions.map((s) => sessionDataOf(s, null)) },
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.disableUser),
    preHandler: adminOnly,
    handler: async (request) => {
      await admin.setDisabled(actorOf(request), request.params.id, true);
      return { status: 'success', message: MESSAGES.accountDisabled } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.enableUser),
    preHandler: adminOnly,
    handler: async (request) => {
      await admin.setDisabled(actorOf(request), request.params.id, false);
      return { status: 'success', message: MESSAGES.accountEnabled } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.setUserAdmin),
    preHandler: adminOnly,
    handler: async (request) => {
      await admin.setAdmin(actorOf(request), request.params.id, request.body.admin);
      return {
        status: 'success',
        message: request.body.admin ? MESSAGES.adminGranted : MESSAGES.adminRemoved,
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.endUserSessions),
    preHandler: adminOnly,
    handler: async (request) => {
      const ended = await admin.endSessions(actorOf(request), request.params.id);
      return {
        status: 'success',
        message: ended === 1 ? 'Signed out of 1 session.' : `Signed out of ${ended} sessions.`,
        data: { ended },
      } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.deleteUser),
    preHandler: adminOnly,
    handler: async (request) => {
      await admin.deleteUser(actorOf(request), request.params.id);
      return { status: 'success', message: MESSAGES.accountDeleted } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.resetUserSecondFactors),
    preHandler: adminOnly,
    handler: async (request) => {
      await admin.resetSecondFactors(actorOf(request), request.params.id);
      return { status: 'success', message: MESSAGES.secondFactorsReset } as const;
    },
  });

  app.route({
    ...route(OPERATIONS.listEvents),
    preHandler: adminOnly,
    handler: async (request) => {
      const { user_id, type, limit, cursor } = request.query;
      const found = await admin.listEvents({
        ...(user_id === undefined ? {} : { userId: user_id }),
        ...(type === undefined ? {} : { type }),
        limit: limitOf(limit),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return eventsPage(found);
    },
  });
}
