import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, PLATFORM_ID, inject } from '@angular/core';
import type {
  AdminUser,
  AdminUserBody,
  AdminUsersBody,
  AuditEventData,
  AuditEventsBody,
  EndedBody,
  MessageBody,
} from '@latchkey/contract';
import { firstValueFrom } from 'rxjs';
import { createApiBase } from './api-base';
import { LATCHKEY_CONFIG } from './latchkey-config';
import { type LatchkeyResult, failureFrom } from './latchkey-result';

/** A page of a list, and the cursor of the next one (null on the last page). */
export interface LatchkeyPage<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filters of {@link LatchkeyAdmin.events}. */
export interface AuditEventFilter {
  userId?: string;
  type?: string;
  limit?: number;
  cursor?: string | null;
}

/**
 * The signed-in user's security activity, and, for admins, the admin API (`/admin`): accounts,
 * their sessions, disabling, roles, deletion and the audit log. Calls go through the Latchkey
 * interceptor like every other API call (bearer token, refresh on expiry). Non-admins get
 * `forbidden` results.
 *
 * @example
 * ```ts
 * const admin = inject(LatchkeyAdmin);
 * const page = await admin.users({ query: 'example.com' });
 * if (page.ok) this.users.set(page.value.items);
 * ```
 */
@Injectable()
export class LatchkeyAdmin {
  readonly #http = inject(HttpClient);
  readonly #api = createApiBase(
    inject(LATCHKEY_CONFIG).apiUrl,
    isPlatformBrowser(inject(PLATFORM_ID)) ? inject(DOCUMENT).baseURI : undefined,
  );

  /** The signed-in user's own recent security events, newest first. */
  myEvents(
    limit = 20,
    cursor: string | null = null,
  ): Promise<LatchkeyResult<LatchkeyPage<AuditEventData>>> {
    return this.#page('/auth/events', this.#params({ limit, cursor }));
  }

  /** Accounts, oldest first; `query` matches part of the email. */
  users(
    filter: { query?: string; limit?: number; cursor?: string | null } = {},
  ): Promise<LatchkeyResult<LatchkeyPage<AdminUser>>> {
    return this.#page('/admin/users', this.#params(filter));
  }

  /** One account with its live sessions. */
  user(id: string): Promise<LatchkeyResult<AdminUserBody['data']>> {
    return this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.get<AdminUserBody>(this.#api.url(`/admin/users/${encodeURIComponent(id)}`)),
      );
      return body.data;
    });
  }

  /** Disables an account: every session ends at once. */
  disable(id: string): Promise<LatchkeyResult<string>> {
    return this.#action('POST', `/admin/users/${encodeURIComponent(id)}/disable`);
  }

  enable(id: string): Promise<LatchkeyResult<string>> {
    return this.#action('POST', `/admin/users/${encodeURIComponent(id)}/enable`);
  }

  /** Grants or removes the admin role. */
  setAdmin(id: string, admin: boolean): Promise<LatchkeyResult<string>> {
    return this.#action('POST', `/admin/users/${encodeURIComponent(id)}/admin`, { admin });
  }

  /** Ends every session of an account; the value is how many ended. */
  endSessions(id: string): Promise<LatchkeyResult<number>> {
    return this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.delete<EndedBody>(
          this.#api.url(`/admin/users/${encodeURIComponent(id)}/sessions`),
        ),
      );
      return body.data.ended;
    });
  }

  /** Deletes an account and its sessions; its email may register again. */
  delete(id: string): Promise<LatchkeyResult<string>> {
    return this.#action('DELETE', `/admin/users/${encodeURIComponent(id)}`);
  }

  /** The audit log, newest first. */
  events(filter: AuditEventFilter = {}): Promise<LatchkeyResult<LatchkeyPage<AuditEventData>>> {
    const { userId, ...rest } = filter;
    return this.#page('/admin/events', this.#params({ ...rest, user_id: userId }));
  }

  #params(values: Record<string, string | number | null | undefined>): HttpParams {
    let params = new HttpParams();
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined && value !== null && value !== '')
        params = params.set(key, String(value));
    }
    return params;
  }

  #page<T>(
    path: `/auth/${string}` | `/admin/${string}`,
    params: HttpParams,
  ): Promise<LatchkeyResult<LatchkeyPage<T>>> {
    return this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.get<AdminUsersBody | AuditEventsBody>(this.#api.url(path), { params }),
      );
      return { items: body.data as T[], nextCursor: body.next_cursor };
    });
  }

  #action(
    method: 'POST' | 'DELETE',
    path: `/admin/${string}`,
    body: object = {},
  ): Promise<LatchkeyResult<string>> {
    return this.#call(async () => {
      const url = this.#api.url(path);
      const answer = await firstValueFrom(
        method === 'POST'
          ? this.#http.post<MessageBody>(url, body)
          : this.#http.delete<MessageBody>(url),
      );
      return answer.message;
    });
  }

  async #call<T>(action: () => Promise<T>): Promise<LatchkeyResult<T>> {
    try {
      return { ok: true, value: await action() };
    } catch (error) {
      return failureFrom(error);
    }
  }
}
