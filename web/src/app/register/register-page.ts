import { ChangeDetectionStrategy, Component, inject, input } from '@angular/core';
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

  protected readonly register = (email: string, password: string): Promise<LatchkeyResult> =>
    this.#auth.register(email, password);

  protected continue(): void {
    void this.#router.navigateByUrl(safeReturnUrl(this.returnUrl(), '/status'));
  }
}
