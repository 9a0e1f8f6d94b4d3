import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { LatchkeyAuth, type LatchkeyResult, safeReturnUrl } from '@latchkey/angular';
import { CredentialsForm } from '../shared/credentials-form';

@Component({
  selector: 'app-register-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [CredentialsForm, RouterLink],
  template: `
    <section class="narrow">
      <h1>Create your account</h1>
      @if (checkMail()) {
        <p class="notice-box" role="status">
          Registered. We have mailed you a link: follow it to verify your address, then log in.
        </p>
      }
      <app-credentials-form
        submitLabel="Register"
        passwordAutocomplete="new-password"
        passwordHint="At least 8 characters. Long passphrases are best; common passwords are refused."
        [action]="register"
        (succeeded)="continue()"
      />
      <p class="aside">
        Already registered?
        <a routerLink="/login" [queryParams]="returnUrl() ? { returnUrl: returnUrl() } : {}"
          >Log in</a
        >
      </p>
    </section>
  `,
})
export class RegisterPage {
  readonly #auth = inject(LatchkeyAuth);
  readonly #router = inject(Router);
  readonly returnUrl = input<string | undefined>();

  /** Registered under REQUIRE_EMAIL_VERIFICATION: nobody is signed in until the mail's link. */
  protected readonly checkMail = signal(false);

  protected readonly register = async (
    email: string,
    password: string,
  ): Promise<LatchkeyResult> => {
    const result = await this.#auth.register(email, password);
    if (!result.ok) return result;
    this.checkMail.set(result.value === 'verify-email');
    return { ok: true, value: undefined };
  };

  protected continue(): void {
    if (this.checkMail()) return;
    void this.#router.navigateByUrl(safeReturnUrl(this.returnUrl(), '/status'));
  }
}
