import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import {
  LatchkeyAuth,
  type LatchkeyResult,
  type SecondFactorProof,
  safeReturnUrl,
} from '@latchkey/angular';
import { type FormField, SimpleForm } from '../shared/simple-form';
import { CredentialsForm } from '../shared/credentials-form';

@Component({
  selector: 'app-sign-in-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [CredentialsForm, RouterLink, SimpleForm],
  template: `
    <section class="narrow">
      <h1>Log in</h1>
      @if (auth.endedElsewhere()) {
        <p class="notice-box" role="status">
          Your session was ended elsewhere: signed out from another device, or the password was
          changed. Log in again to continue.
        </p>
      }
      @if (secondStep()) {
        <p class="lead">Enter the 6-digit code from your authenticator app.</p>
        @if (useRecoveryCode()) {
          <app-simple-form
            formId="recovery"
            submitLabel="Verify"
            [fields]="recoveryFields"
            [action]="withRecoveryCode"
            (succeeded)="continue()"
          />
          <button type="button" class="link" (click)="useRecoveryCode.set(false)">
            Use the authenticator app instead
          </button>
        } @else {
          <app-simple-form
            formId="mfa"
            submitLabel="Verify"
            [fields]="codeFields"
            [action]="withCode"
            (succeeded)="continue()"
          />
          <button type="button" class="link" (click)="useRecoveryCode.set(true)">
            Use a recovery code
          </button>
        }
      } @else {
        <app-credentials-form
          submitLabel="Log in"
          passwordAutocomplete="current-password"
          [action]="logIn"
          (succeeded)="afterPassword()"
        />
      }
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

  /** The password was right and a second factor is due (nobody is signed in yet). */
  protected readonly secondStep = signal(false);
  protected readonly useRecoveryCode = signal(false);
  protected readonly codeFields: FormField[] = [
    { name: 'code', label: 'Authentication code', type: 'text', autocomplete: 'one-time-code' },
  ];
  protected readonly recoveryFields: FormField[] = [
    { name: 'recovery_code', label: 'Recovery code', type: 'text', autocomplete: 'off' },
  ];

  protected readonly logIn = async (email: string, password: string): Promise<LatchkeyResult> => {
    const result = await this.auth.login(email, password);
    if (!result.ok) return result;
    this.secondStep.set(result.value === 'second-factor');
    return { ok: true, value: undefined };
  };

  protected readonly withCode = (values: Record<string, string>): Promise<LatchkeyResult<string>> =>
    this.finish({ code: values['code'] ?? '' });
  protected readonly withRecoveryCode = (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> =>
    this.finish({ recoveryCode: values['recovery_code'] ?? '' });

  private async finish(proof: SecondFactorProof): Promise<LatchkeyResult<string>> {
    const result = await this.auth.completeLogin(proof);
    if (result.ok) return { ok: true, value: 'Signed in.' };
    // The pending sign-in is gone (expired or used): start again with the password.
    if (result.code === 'invalid_mfa_token') this.secondStep.set(false);
    return result;
  }

  protected afterPassword(): void {
    if (!this.secondStep()) this.continue();
  }

  protected continue(): void {
    void this.#router.navigateByUrl(safeReturnUrl(this.returnUrl(), '/status'));
  }
}
