import { DOCUMENT, isPlatformBrowser } from '@angular/common';
import {
  HttpClient,
  HttpContext,
  HttpContextToken,
  HttpErrorResponse,
  type HttpEvent,
  type HttpHandlerFn,
  type HttpRequest,
} from '@angular/common/http';
import { DestroyRef, Injectable, PLATFORM_ID, computed, inject, signal } from '@angular/core';
import type {
  MessageBody,
  MfaChallengeBody,
  RecoveryCodesBody,
  SecondFactorsBody,
  TotpEnrolmentBody,
  SessionData,
  SessionsBody,
  StatusBody,
  TokenBody,
  UserData,
} from '@latchkey/contract';
import { type Observable, catchError, firstValueFrom, from, switchMap, throwError } from 'rxjs';
import { createApiBase } from './api-base';
import { type CrossTabGlobals, createCrossTab } from './cross-tab';
import { LATCHKEY_CONFIG } from './latchkey-config';
import {
  CLIENT_MESSAGES,
  type LatchkeyResult,
  errorCodeOf,
  failureFrom,
  isTransient,
  retryAfterSecondsOf,
} from './latchkey-result';

/**
 * Where the auth state stands:
 * - `unknown`: the start-up refresh has not settled yet (and, under server-side rendering, it
 *   never does: only the browser knows the session);
 * - `signed-in`: a user is signed in ({@link LatchkeyAuth.user} is set);
 * - `signed-out`: nobody is signed in;
 * - `unavailable`: the server could not be reached, or answered 5xx or 429, at start-up. The
 *   session is kept (the refresh cookie is untouched) and the check is retried with back-off;
 *   guards wait until it settles instead of signing the user out.
 *
 * @example
 * ```ts
 * if (auth.status() === 'unavailable') showBanner('Reconnecting…');
 * ```
 */
export type LatchkeyStatus = 'unknown' | 'signed-in' | 'signed-out' | 'unavailable';

/**
 * What a registration led to: signed in, or (REQUIRE_EMAIL_VERIFICATION on the server) an
 * account whose address must be verified before the first login.
 *
 * @example
 * ```ts
 * const result = await auth.register(email, password);
 * if (result.ok && result.value === 'verify-email') showCheckYourMail();
 * ```
 */
export type RegisterOutcome = 'signed-in' | 'verify-email';

/**
 * What a login led to: signed in, or the right password of an account with a second factor:
 * call {@link LatchkeyAuth.completeLogin} with a code (nothing is signed in until then).
 *
 * @example
 * ```ts
 * const result = await auth.login(email, password);
 * if (result.ok && result.value === 'second-factor') askForCode();
 * ```
 */
export type LoginOutcome = 'signed-in' | 'second-factor';

/** A second factor: a code from the authenticator app, or a recovery code. */
export interface SecondFactorProof {
  code?: string;
  recoveryCode?: string;
}

const proofBody = (proof: SecondFactorProof) => ({
  ...(proof.code === undefined || proof.code === '' ? {} : { code: proof.code }),
  ...(proof.recoveryCode === undefined || proof.recoveryCode === ''
    ? {}
    : { recovery_code: proof.recoveryCode }),
});

/** What a timer needs: a page's `window`, or a test's fake. */
interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/**
 * Tags the refresh request: it must carry no bearer token (the cookie is its credential) and a
 * 401 answer to it is final, never itself recovered by another refresh.
 */
const REFRESH_REQUEST = new HttpContextToken<boolean>(() => false);

/**
 * Start-up retry delays while the server is unavailable: doubling from 1 s, at most 30 s (or
 * longer when the server's Retry-After asks for it). Exponential back-off keeps a recovering
 * server from being hammered by every open tab at once (RFC 9110 section 10.2.3 for
 * Retry-After).
 */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** How a refresh ended: a new token, a session the server refused, or no verdict at all. */
type RefreshOutcome = { kind: 'renewed' } | { kind: 'ended' } | { kind: 'failed'; error: unknown };

/**
 * The interceptor's way in: sends `request` through the one 401 policy of `auth`. Not exported
 * from the public entry, so the policy's parts stay private to {@link LatchkeyAuth}.
 */
export let sendThroughLatchkey: (
  auth: LatchkeyAuth,
  request: HttpRequest<unknown>,
  next: HttpHandlerFn,
) => Observable<HttpEvent<unknown>>;

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
  static {
    sendThroughLatchkey = (auth, request, next) => auth.#send(request, next);
  }

  readonly #http = inject(HttpClient);
  readonly #browser = isPlatformBrowser(inject(PLATFORM_ID));
  readonly #window = this.#browser ? (inject(DOCUMENT).defaultView ?? undefined) : undefined;
  // Resolved once: request URLs are compared with it, the configuration is not re-read.
  readonly #api = createApiBase(
    inject(LATCHKEY_CONFIG).apiUrl,
    this.#browser ? inject(DOCUMENT).baseURI : undefined,
  );
  readonly #crossTab = createCrossTab(this.#window as CrossTabGlobals | undefined);
  readonly #timers = this.#window as Timers | undefined;

  readonly #status = signal<LatchkeyStatus>('unknown');
  readonly #user = signal<UserData | null>(null);
  readonly #endedElsewhere = signal(false);
  /** The pending sign-in of a login that waits for its second factor (memory only). */
  #pendingMfa: string | null = null;
  #accessToken: string | null = null;
  /** The current session's id, as the server marked it in the last session list. */
  #sessionId: string | null = null;
  #refreshing: Promise<RefreshOutcome> | null = null;
  #retryTimer: unknown = undefined;
  #retryMs = FIRST_RETRY_MS;
  #destroyed = false;
  readonly #ready: Promise<void>;
  #markReady: () => void = () => undefined;

  /** See {@link LatchkeyStatus}. */
  readonly status = this.#status.asReadonly();
  /** The signed-in user, or null. */
  readonly user = this.#user.asReadonly();
  /**
   * True when the server ended this tab's session while it was signed in (signed out from
   * another device, a password change, a reused refresh token), until the next sign-in: a login
   * page can say why the user is there. A logout in this browser does not set it.
   */
  readonly endedElsewhere = this.#endedElsewhere.asReadonly();
  /** True while a user is signed in. */
  readonly isSignedIn = computed(() => this.#status() === 'signed-in');
  /** True once the start-up check has settled to `signed-in` or `signed-out` (guards wait). */
  readonly isReady = computed(() => {
    const status = this.#status();
    return status === 'signed-in' || status === 'signed-out';
  });

  constructor() {
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    if (!this.#browser) {
      // Under server-side rendering the session is the browser's business: no refresh here
      // (it would rotate the user's refresh token on the server), the state stays `unknown`.
      this.#markReady();
      return;
    }
    // Deferred so the first request runs after construction (the interceptor injects this).
    void Promise.resolve().then(() => this.#restore());
    const stop = this.#crossTab.listen((message) => {
      if (message.type === 'signed-out') this.#clear();
      else if (!this.isSignedIn()) void this.#restore();
    });
    inject(DestroyRef).onDestroy(() => {
      this.#destroyed = true;
      this.#cancelRetry();
      stop();
    });
  }

  /**
   * Resolves once the start-up check has settled to `signed-in` or `signed-out`; while the
   * server is `unavailable` it keeps waiting. On a server (SSR) it resolves at once, the state
   * still `unknown`.
   */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** Signs in; on success the user is loaded and other tabs are told. */
  async login(email: string, password: string): Promise<LatchkeyResult<LoginOutcome>> {
    const result = await this.#signIn('login', email, password);
    if (!result.ok) return result;
    return { ok: true, value: result.value === 'second-factor' ? 'second-factor' : 'signed-in' };
  }

  /**
   * Finishes a login that answered `'second-factor'`, with a code or a recovery code. The
   * pending sign-in lives five minutes and works once; `invalid_mfa_token` means start again.
   */
  completeLogin(proof: SecondFactorProof): Promise<LatchkeyResult> {
    const pending = this.#pendingMfa;
    return this.#establish(async () => {
      if (pending === null) throw new Error('no sign-in waits for a second factor');
      const body = await firstValueFrom(
        this.#http.post<TokenBody>(this.#api.url('/auth/login/mfa'), {
          mfa_token: pending,
          ...proofBody(proof),
        }),
      );
      this.#pendingMfa = null;
      return body.auth_token;
    });
  }

  /** The signed-in user's second factors. */
  secondFactors(): Promise<LatchkeyResult<SecondFactorsBody['data']>> {
    return this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.get<SecondFactorsBody>(this.#api.url('/auth/mfa')),
      );
      return body.data;
    });
  }

  /** Starts enrolling an authenticator app: the secret and its QR code (SVG) to show. */
  startTotp(currentPassword: string): Promise<LatchkeyResult<TotpEnrolmentBody['data']>> {
    return this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.post<TotpEnrolmentBody>(this.#api.url('/auth/mfa/totp'), {
          current_password: currentPassword,
        }),
      );
      return body.data;
    });
  }

  /** Turns the authenticator on with its first code; the value is the recovery codes, shown once. */
  confirmTotp(code: string): Promise<LatchkeyResult<string[]>> {
    return this.#codes('/auth/mfa/totp/confirm', { code });
  }

  /** New recovery codes (the old ones stop working); needs a second factor. */
  regenerateRecoveryCodes(proof: SecondFactorProof): Promise<LatchkeyResult<string[]>> {
    return this.#codes('/auth/mfa/recovery-codes', proofBody(proof));
  }

  /** Turns the authenticator off (other sessions end); needs the password and a second factor. */
  removeTotp(currentPassword: string, proof: SecondFactorProof): Promise<LatchkeyResult<string>> {
    return this.#message('/auth/mfa/totp/remove', {
      current_password: currentPassword,
      ...proofBody(proof),
    });
  }

  #codes(path: `/auth/${string}`, body: object): Promise<LatchkeyResult<string[]>> {
    return this.#call(async () => {
      const answer = await firstValueFrom(
        this.#http.post<RecoveryCodesBody>(this.#api.url(path), body),
      );
      return answer.data.recovery_codes;
    });
  }

  /**
   * Creates an account and signs in. With the server's REQUIRE_EMAIL_VERIFICATION the account is
   * created but nobody is signed in until the address is verified: the value is then
   * `'verify-email'` (the server has mailed a link), otherwise `'signed-in'`.
   */
  async register(email: string, password: string): Promise<LatchkeyResult<RegisterOutcome>> {
    const result = await this.#signIn('register', email, password);
    if (!result.ok) return result;
    return { ok: true, value: result.value === 'verify-email' ? 'verify-email' : 'signed-in' };
  }

  /**
   * Ends this session on the server, then signs out every tab. When the server cannot be
   * reached or fails, nothing changes (the session and its cookie live on, so pretending to be
   * signed out would leave a live session behind) and the result says so.
   */
  async logout(): Promise<LatchkeyResult> {
    try {
      await firstValueFrom(this.#http.post<MessageBody>(this.#api.url('/auth/logout'), {}));
    } catch (error) {
      // A 401 means the server holds no live session for this tab: signed out already.
      if (!(error instanceof HttpErrorResponse) || error.status !== 401) {
        return { ...failureFrom(error), message: CLIENT_MESSAGES.logoutFailed };
      }
    }
    this.#endSession();
    return { ok: true, value: undefined };
  }

  /** Changes the password; every other session of the user ends. */
  /** Changes the password; every other session ends. With a second factor, `proof` is needed. */
  async changePassword(
    currentPassword: string,
    newPassword: string,
    proof: SecondFactorProof = {},
  ): Promise<LatchkeyResult> {
    return this.#call(async () => {
      await firstValueFrom(
        this.#http.post<MessageBody>(this.#api.url('/auth/password'), {
          current_password: currentPassword,
          new_password: newPassword,
          ...proofBody(proof),
        }),
      );
    });
  }

  /** The user's live sessions, the current one marked `current`. */
  sessions(): Promise<LatchkeyResult<SessionData[]>> {
    return this.#call(async () => {
      const body = await firstValueFrom(
        this.#http.get<SessionsBody>(this.#api.url('/auth/sessions')),
      );
      this.#sessionId = body.data.find((session) => session.current)?.id ?? null;
      return body.data;
    });
  }

  /**
   * Ends one session at once; ending the current one is a logout (every tab signs out). Which
   * one is current is the server's word (the `current` flag of {@link sessions}); without a
   * list seen yet, the server is asked afterwards whether this session still lives.
   */
  async endSession(id: string): Promise<LatchkeyResult> {
    const result = await this.#call(async () => {
      await firstValueFrom(
        this.#http.delete<MessageBody>(this.#api.url(`/auth/sessions/${encodeURIComponent(id)}`)),
      );
    });
    if (!result.ok) return result;
    if (this.#sessionId === id) this.#endSession();
    else if (this.#sessionId === null) await this.#loadUser().catch(() => undefined);
    return result;
  }

  /** Ends every session of the user but this one. */
  endOtherSessions(): Promise<LatchkeyResult> {
    return this.#call(async () => {
      await firstValueFrom(this.#http.delete<MessageBody>(this.#api.url('/auth/sessions')));
    });
  }

  /**
   * Mails a new verification link to the signed-in user's address; the value is the server's
   * message (it says so when the address is verified already).
   */
  requestVerificationEmail(): Promise<LatchkeyResult<string>> {
    return this.#message('/auth/email/verify/request', {});
  }

  /**
   * Verifies the address with the token of a verification link (read it from the page's
   * fragment). Works signed out too; a signed-in user's data is reloaded.
   */
  verifyEmail(token: string): Promise<LatchkeyResult<string>> {
    return this.#message('/auth/email/verify', { token }, true);
  }

  /** Asks for a password reset link; the answer is the same whether or not the account exists. */
  forgotPassword(email: string): Promise<LatchkeyResult<string>> {
    return this.#message('/auth/password/forgot', { email });
  }

  /**
   * Sets a new password with the token of a reset link. Every session of the account ends,
   * this tab's too: the user logs in again with the new password.
   */
  async resetPassword(token: string, newPassword: string): Promise<LatchkeyResult<string>> {
    const result = await this.#message('/auth/password/reset', {
      token,
      new_password: newPassword,
    });
    if (result.ok && this.#status() === 'signed-in') this.#endSession();
    return result;
  }

  /**
   * Asks to change the signed-in user's email: a confirmation link goes to the new address.
   * Nothing changes until it is followed ({@link confirmEmailChange}).
   */
  changeEmail(
    newEmail: string,
    currentPassword: string,
    proof: SecondFactorProof = {},
  ): Promise<LatchkeyResult<string>> {
    return this.#message('/auth/email/change', {
      new_email: newEmail,
      current_password: currentPassword,
      ...proofBody(proof),
    });
  }

  /** Confirms a new email with the token of its link; a signed-in user's data is reloaded. */
  confirmEmailChange(token: string): Promise<LatchkeyResult<string>> {
    return this.#message('/auth/email/change/confirm', { token }, true);
  }

  /** POSTs `body` and answers the server's message; `reload`: the user's data changed. */
  async #message(
    path: `/auth/${string}`,
    body: object,
    reload = false,
  ): Promise<LatchkeyResult<string>> {
    const result = await this.#call(async () => {
      const answer = await firstValueFrom(this.#http.post<MessageBody>(this.#api.url(path), body));
      return answer.message;
    });
    if (result.ok && reload && this.#status() === 'signed-in') {
      await this.#loadUser().catch(() => undefined);
    }
    return result;
  }

  /**
   * Gets a new access token with the refresh cookie. Calls made at once share one request, and
   * tabs take turns (Web Locks), so several tabs never present the same cookie twice. False when
   * no token came back: the session has ended (the state is then signed out) or the server could
   * not give a verdict (the state is left as it is).
   */
  async refresh(): Promise<boolean> {
    return (await this.#sharedRefresh()).kind === 'renewed';
  }

  #sharedRefresh(): Promise<RefreshOutcome> {
    this.#refreshing ??= this.#crossTab
      .withRefreshLock(() => this.#refreshNow())
      .finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  /**
   * The one 401 policy, for every request the app sends to the API:
   * - only API URLs get the bearer token and cookies (`withCredentials`);
   * - the refresh request (tagged {@link REFRESH_REQUEST}) gets cookies only and is never
   *   recovered;
   * - 401 `token_expired`: refresh once (shared with parallel requests, or skipped when the
   *   token was renewed while this request was out) and retry once;
   * - 401 `token_revoked` or `invalid_token` for the token still in use: the session ended
   *   elsewhere, so every tab signs out. A late answer for a replaced token changes nothing.
   */
  #send(request: HttpRequest<unknown>, next: HttpHandlerFn): Observable<HttpEvent<unknown>> {
    if (!this.#api.covers(request.url)) return next(request);
    const withToken = (token: string | null) =>
      request.clone({
        withCredentials: true,
        ...(token === null ? {} : { setHeaders: { Authorization: `Bearer ${token}` } }),
      });
    if (request.context.get(REFRESH_REQUEST)) return next(withToken(null));

    const sent = this.#accessToken;
    const noteEnded = (token: string | null) => (error: unknown) => {
      const code = errorCodeOf(error);
      if ((code === 'token_revoked' || code === 'invalid_token') && token !== null) {
        if (this.#accessToken === token) this.#endSession({ elsewhere: true });
      }
      return throwError(() => error);
    };
    return next(withToken(sent)).pipe(
      catchError((error: unknown) => {
        if (errorCodeOf(error) !== 'token_expired') return noteEnded(sent)(error);
        const renewed = this.#accessToken !== null && this.#accessToken !== sent;
        const ready = renewed ? Promise.resolve(true) : this.refresh();
        return from(ready).pipe(
          switchMap((refreshed) => {
            const token = this.#accessToken;
            if (!refreshed || token === null) return throwError(() => error);
            return next(withToken(token)).pipe(catchError(noteEnded(token)));
          }),
        );
      }),
    );
  }

  async #signIn(
    kind: 'login' | 'register',
    email: string,
    password: string,
  ): Promise<LatchkeyResult<RegisterOutcome | LoginOutcome>> {
    let outcome: RegisterOutcome | LoginOutcome = 'signed-in';
    const result = await this.#establish(async () => {
      const body = await firstValueFrom(
        this.#http.post<Partial<TokenBody> & Partial<MfaChallengeBody>>(
          this.#api.url(`/auth/${kind}`),
          { email, password },
        ),
      );
      if (typeof body.auth_token === 'string') return body.auth_token;
      // The right password of an account with a second factor: nothing is signed in yet.
      if (typeof body.mfa_token === 'string') {
        this.#pendingMfa = body.mfa_token;
        outcome = 'second-factor';
      } else {
        // Registered, not signed in: the address must be verified first (REQUIRE_EMAIL_VERIFICATION).
        outcome = 'verify-email';
      }
      return null;
    });
    return result.ok ? { ok: true, value: outcome } : result;
  }

  /**
   * Takes the access token `obtain` answers (null: nothing to sign in with yet), loads the user,
   * and tells the other tabs. Half a sign-in is none: no token stays without its user.
   */
  async #establish(obtain: () => Promise<string | null>): Promise<LatchkeyResult> {
    let signedIn = false;
    const result = await this.#call(async () => {
      const token = await obtain();
      if (token === null) return;
      this.#accessToken = token;
      this.#sessionId = null;
      this.#endedElsewhere.set(false);
      try {
        await this.#loadUser();
      } catch (error) {
        this.#accessToken = null;
        throw error;
      }
      signedIn = true;
    });
    if (result.ok && signedIn) {
      this.#cancelRetry();
      this.#retryMs = FIRST_RETRY_MS;
      this.#markReady();
      this.#crossTab.post({ type: 'signed-in' });
    }
    return result;
  }

  async #call<T>(action: () => Promise<T>): Promise<LatchkeyResult<T>> {
    try {
      return { ok: true, value: await action() };
    } catch (error) {
      return failureFrom(error);
    }
  }

  async #refreshNow(): Promise<RefreshOutcome> {
    try {
      const body = await firstValueFrom(
        this.#http.post<TokenBody>(
          this.#api.url('/auth/refresh'),
          {},
          { context: new HttpContext().set(REFRESH_REQUEST, true) },
        ),
      );
      this.#accessToken = body.auth_token;
      return { kind: 'renewed' };
    } catch (error) {
      // Only the server's verdict on the cookie ends the session; an outage or a rate limit
      // leaves the state as it is.
      if (isTransient(error)) return { kind: 'failed', error };
      if (this.#status() === 'signed-in') this.#endedElsewhere.set(true);
      this.#clear();
      return { kind: 'ended' };
    }
  }

  async #loadUser(): Promise<void> {
    const body = await firstValueFrom(this.#http.get<StatusBody>(this.#api.url('/auth/status')));
    this.#user.set(body.data);
    this.#status.set('signed-in');
  }

  /**
   * Refresh, then load the user: the start-up check, its retries, and a sign-in seen in another
   * tab. A transient failure keeps the session and tries again later.
   */
  async #restore(): Promise<void> {
    this.#cancelRetry();
    const refreshed = await this.#sharedRefresh();
    if (refreshed.kind === 'ended') return; // signed out, and so ready
    if (refreshed.kind === 'failed') return this.#unavailable(refreshed.error);
    try {
      await this.#loadUser();
      this.#retryMs = FIRST_RETRY_MS;
      this.#markReady();
    } catch (error) {
      this.#accessToken = null;
      if (isTransient(error)) return this.#unavailable(error);
      this.#clear();
    }
  }

  /** The server gave no verdict: keep the session, say so, and look again after a while. */
  #unavailable(error: unknown): void {
    // A signed-in tab stays signed in; only a tab that does not know yet waits for the server.
    if (this.#status() === 'signed-in' || this.#destroyed) return;
    this.#status.set('unavailable');
    if (this.#timers === undefined) return;
    const asked = error instanceof HttpErrorResponse ? retryAfterSecondsOf(error) : undefined;
    const delay = Math.max(this.#retryMs, (asked ?? 0) * 1_000);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#restore();
    }, delay);
  }

  #cancelRetry(): void {
    if (this.#retryTimer === undefined) return;
    this.#timers?.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** This session ended (logout, its own deletion, revocation): sign out every tab. */
  #endSession({ elsewhere = false } = {}): void {
    if (elsewhere) this.#endedElsewhere.set(true);
    this.#clear();
    this.#crossTab.post({ type: 'signed-out' });
  }

  /** Signed out here (a settled state: guards stop waiting). */
  #clear(): void {
    this.#cancelRetry();
    this.#retryMs = FIRST_RETRY_MS;
    this.#accessToken = null;
    this.#sessionId = null;
    this.#user.set(null);
    this.#status.set('signed-out');
    this.#markReady();
  }
}
