import { ChangeDetectionStrategy, Component, inject, input } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { LatchkeyAuth, type LatchkeyResult, safeReturnUrl } from '@latchkey/angular';
import { CredentialsForm } from '../shared/credentials-form';

@Component({
  selector: 'app-sign-in-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [CredentialsForm, RouterLink],
  template: `
    <section class="narrow">
      <h1>Log in</h1>
      @if (auth.endedElsewhere()) {
        <p class="notice-box" role="status">
          Your session was ended elsewhere: signed out from another device, or the password was
          changed. Log in again to continue.
        </p>
      }
      <app-credentials-form
        submitLabel="Log in"
        passwordAutocomplete="current-password"
        [action]="logIn"
        (succeeded)="continue()"
      />
      <p class="aside"><a routerLink="/forgot-password">Forgot password?</a></p>
      <p class="aside">
        New here?
        <a routerLink="/register" [queryParams]="returnUrl() ? { returnUrl: returnUrl() } : {}"
          >Register</a
        >
      </p>
    </section>
  `,
})
export class SignInPage {
  protected readonly auth = inject(LatchkeyAuth);
  readonly #router = inject(Router);
  /** Where the guard sent the user from (a query parameter). */
  readonly returnUrl = input<string | undefined>();

  protected readonly logIn = (email: string, password: string): Promise<LatchkeyResult> =>
    this.auth.login(email, password);

  protected continue(): void {
    void this.#router.navigateByUrl(safeReturnUrl(this.returnUrl(), '/status'));
  }
}
