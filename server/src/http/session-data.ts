import type { SessionData } from '@latchkey/contract';
import type { SessionRecord } from '../services/sessions.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A session on the wire (`GET /auth/sessions`, `GET /admin/users/:id`). */
export function sessionDataOf(
  session: SessionRecord,
  currentSessionId: string | null,
): SessionData {
  return {
    id: session.id,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    expires_at: iso(Math.min(session.idleExpiresAt, session.expiresAt)),
    user_agent: session.userAgent,
    ip: session.ip,
    current: session.id === currentSessionId,
  };
}
