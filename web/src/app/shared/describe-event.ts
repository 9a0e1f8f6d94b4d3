import type { AuditEventData } from '@latchkey/angular';

/** What an audit event means, in a few words, for the account and admin pages. */
const EVENT_WORDS: Record<string, string> = {
  registered: 'Account created',
  login_succeeded: 'Signed in',
  login_failed: 'Sign-in refused',
  logged_out: 'Signed out',
  session_ended: 'Session ended',
  refresh_token_reused: 'Stolen session cookie detected; session ended',
  password_changed: 'Password changed',
  password_change_failed: 'Password change refused',
  password_reset_requested: 'Password reset requested',
  password_reset: 'Password reset',
  email_verification_requested: 'Verification mail sent',
  email_verified: 'Email verified',
  email_change_requested: 'Email change requested',
  email_change_failed: 'Email change refused',
  email_changed: 'Email changed',
  account_disabled: 'Account disabled',
  account_enabled: 'Account enabled',
  account_deleted: 'Account deleted',
  role_changed: 'Role changed',
};

/** The event types, for filters. */
export const EVENT_TYPES = Object.keys(EVENT_WORDS);

export function describeEvent(event: AuditEventData): string {
  const words = EVENT_WORDS[event.type] ?? event.type;
  const reason = event.detail['reason'];
  return typeof reason === 'string' ? `${words} (${reason.replaceAll('_', ' ')})` : words;
}
