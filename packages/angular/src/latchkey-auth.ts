import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import { HttpClient } from '@angular/common/http';
import { DestroyRef, Injectable, PLATFORM_ID, computed, inject, signal } from '@angular/core';
import type {
  MessageBody,
  SessionData,
  SessionsBody,
  StatusBody,
  TokenBody,
  UserData,
} from '@latchkey/contract';
import { firstValueFrom } from 'rxjs';
import { type CrossTabGlobals, createCrossTab } from './cross-tab';
import { LATCHKEY_CONFIG } from './latchkey-config';
import { type LatchkeyResult, errorCodeOf, failureFrom } from './latchkey-result';

/**
 * Where the auth state stands: `unknown` until the start-up refresh settles, then `signed-in` or
 * `signed-out`.
 *
 * @example
 * ```ts
 * if (auth.status() === 'unknown') showSpinner();
 * ```
 */
export type LatchkeyStatus = 'unknown' | 'signed-in' | 'signed-out';

/**
 * The signed-in user and every auth action, as signals and promises. Provided by
 * {@link provideLatchkey}; inject it anywhere.
 *
 * The access token lives only in this object's memory: never in localStorage, sessionStorage or
 * a script-readable cookie. A page load makes one silent refresh (the HttpOnly refresh cookie)
 * so a reload keeps the user signed in.
 *
 * @example
 * ```ts
 * readonly auth = inject(LatchkeyAuth);
 * // template: @if (auth.user(); as user) { {{ user.email }} }
 * async submit() {
 *   const result = await this.auth.login(this.email(), this.password());
 *   if (result.ok) await this.router.navigateByUrl('/status');
 * }
 * ```
 */
@Injectable()
export class LatchkeyAuth {
  readonly #http = inject(HttpClient);
  readonly #config = inject(LATCHKEY_CONFIG);
  readonly #browser = isPlatformBrowser(inject(PLATFORM_ID));
  readonly #document = inject(DOCUMENT);
  readonly #crossTab = createCrossTab(
    this.#browser
      ? ((this.#document.defaultView as CrossTabGlobals | null) ?? undefined)
      : undefined,
  );

  readonly #status = signal<LatchkeyStatus>(this.#browser ? 'unknown' : 'signed-out');
  readonly #user = signal<UserData | null>(null);
  #accessToken: string | null = null;
  #refreshing: Promise<boolean> | null = null;
  #ready: Promise<void>;

  /** `unknown` until the start-up refresh settles, then `signed-in` or `signed-out`. */
  readonly status = this.#status.asReadonly();
  /** The signed-in user, or null. */
  readonly user = this.#user.asReadonly();
  /** True while a user is signed in. */
  readonly isSignedIn = computed(() => this.#status() === 'signed-in');
  /** True once the start-up refresh has settled (guards wait for it). */
  readonly isReady = computed(() => this.#status() !== 'unknown');

  constructor() {
    // Deferred so the first request runs after construction (the interceptor injects this).
    this.#ready = this.#browser ? Promise.resolve().then(() => this.#startUp()) : Promise.resolve();
    const stop = this.#crossTab.listen((message) => {
      if (message.type === 'signed-out') this.#clear();
      else if (!this.isSignedIn()) void this.#restore();
    });
    inject(DestroyRef).onDestroy(stop);
  }

  /** Resolves once the start-up refresh has settled. */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** Signs in; on success the user is loaded and other tabs are told. */
  login(email: string, password: string): Promise<LatchkeyResult> {
    return this.#signIn('login', email, password);
  }

  /** Creates an account and signs in. */
  register(email: string, password: string): Promise<LatchkeyResult> {
    return this.#signIn('register', email, password);
  }

  /** Ends this session on the server and signs out every tab. Never fails locally. */
  async logout(): Promise<void> {
    try {
      await firstValueFrom(this.#http.post<MessageBody>(this.#url('/auth/logout'), {}));
    } catch {
      // Signed out locally whatever the server said: the session is unusable from here.
    }
    this.#clear();
    this.#crossTab.post({ type: 'signed-out' });
  }

  /** Changes the password; every other session of the user ends. */
  async changePassword(currentPassword: string, newPassword: string): Promise<LatchkeyResult> {
    return this.#call(async () => {
      await firstValueFrom(
        this.#http.post<MessageBody>(this.#url('/auth/password'), {
          current_password: currentPassword,
          new_password: newPassword,
        }),
      );
    });
  }

  /** The user's live sessions, the current one marked `current`. */
  sessions(): Promise<LatchkeyResult<SessionData[]>> {
    return this.#call(async () => {
      const body = await firstValueFrom(this.#http.get<SessionsBody>(this.#url('/auth/sessions')));
      return body.data;
    });
  }

  /** Ends one session at once; ending the current one is a logout (every tab signs out). */
  async endSession(id: string): Promise<LatchkeyResult> {
    const isCurrent = id === this.#sessionId();
    const result = await this.#call(async () => {
      await firstValueFrom(
        this.#http.delete<MessageBody>(this.#url(`/auth/sessions/${encodeURIComponent(id)}`)),
      );
    });
    if (result.ok && isCurrent) {
      this.#clear();
      this.#crossTab.post({ type: 'signed-out' });
    }
    return result;
  }

  /** Ends every session of the user but this one. */
  endOtherSessions(): Promise<LatchkeyResult> {
    return this.#call(async () => {
      await firstValueFrom(this.#http.delete<MessageBody>(this.#url('/auth/sessions')));
    });
  }

  /**
   * Gets a new access token with the refresh cookie. Calls made at once share one request, and
   * tabs take turns (Web Locks), so several tabs never present the same cookie twice. False when
   * the session has ended (the state is then signed out).
   */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#crossTab
      .withRefreshLock(() => this.#refreshNow())
      .finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  /**
   * The access token for a request to `url`, or null. Only requests to the API origin get it.
   *
   * @internal used by the interceptor
   */
  accessTokenFor(url: string): string | null {
    return this.#accessToken !== null && this.isApiUrl(url) ? this.#accessToken : null;
  }

  /**
   * True when `url` is a Latchkey API URL (the configured origin, under `/auth`).
   *
   * @internal used by the interceptor
   */
  isApiUrl(url: string): boolean {
    const base = this.#browser ? this.#document.baseURI : undefined;
    let target: URL;
    let api: URL;
    try {
      target = new URL(url, base ?? 'http://localhost/');
      api = new URL(`${this.#config.apiUrl}/auth/`, base ?? 'http://localhost/');
    } catch {
      return false;
    }
    return target.origin === api.origin && target.pathname.startsWith(api.pathname);
  }

  /**
   * Records that the server refused the session (revoked or invalid token).
   *
   * @internal used by the interceptor
   */
  handleSessionEnded(): void {
    this.#clear();
  }

  /** The `sid` claim of the current access token (read, not verified: the server verifies). */
  #sessionId(): string | undefined {
    const payload = this.#accessToken?.split('.')[1];
    if (payload === undefined) return undefined;
    try {
      const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
      const sid = (JSON.parse(json) as { sid?: unknown }).sid;
      return typeof sid === 'string' ? sid : undefined;
    } catch {
      return undefined;
    }
  }

  #url(path: string): string {
    return `${this.#config.apiUrl}${path}`;
  }

  async #signIn(kind: 'login' | 'register', email: string, password: string) {
    const result = await this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.post<TokenBody>(this.#url(`/auth/${kind}`), { email, password }),
      );
      this.#accessToken = body.auth_token;
      await this.#loadUser();
    });
    if (result.ok) this.#crossTab.post({ type: 'signed-in' });
    return result;
  }

  async #call<T>(action: () => Promise<T>): Promise<LatchkeyResult<T>> {
    try {
      return { ok: true, value: await action() };
    } catch (error) {
      return failureFrom(error);
    }
  }

  async #refreshNow(): Promise<boolean> {
    try {
      const body = await firstValueFrom(this.#http.post<TokenBody>(this.#url('/auth/refresh'), {}));
      this.#accessToken = body.auth_token;
      return true;
    } catch (error) {
      // Only an ended session signs out; a rate limit or an outage leaves the state as it is.
      if (errorCodeOf(error) === 'invalid_refresh_token') this.#clear();
      return false;
    }
  }

  async #loadUser(): Promise<void> {
    const body = await firstValueFrom(this.#http.get<StatusBody>(this.#url('/auth/status')));
    this.#user.set(body.data);
    this.#status.set('signed-in');
  }

  /** Refresh, then load the user: the start-up check and a sign-in seen in another tab. */
  async #restore(): Promise<void> {
    try {
      if ((await this.refresh()) && this.#accessToken !== null) await this.#loadUser();
      else this.#clear();
    } catch {
      this.#clear();
    }
  }

  async #startUp(): Promise<void> {
    await this.#restore();
  }

  #clear(): void {
    this.#accessToken = null;
    this.#user.set(null);
    this.#status.set('signed-out');
  }
}
