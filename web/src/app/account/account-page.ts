import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { LatchkeyAuth, type LatchkeyResult } from '@latchkey/angular';
import { type FormField, SimpleForm } from '../shared/simple-form';
import { retryAfterText } from '../shared/retry-after-text';
import { SecurityActivity } from './security-activity';
import { TwoStepSection } from './two-step-section';

/** The signed-in user's email and its verified state, and forms to change password and email. */
@Component({
  selector: 'app-account-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SimpleForm, SecurityActivity, TwoStepSection],
  template: `
    <section class="narrow">
      <h1>Account</h1>
      @if (auth.user(); as user) {
        <div class="card details">
          <p>
            <span class="label">Email</span>
            <span data-testid="account-email">{{ user.email }}</span>
            @if (user.email_verified) {
              <span class="badge" data-testid="verified">Verified</span>
            } @else {
              <span class="badge warning" data-testid="verified">Not verified</span>
            }
          </p>
          @if (!user.email_verified) {
            <p class="hint">Follow the link we mailed you to verify this address.</p>
            @if (resendError(); as message) {
              <p class="alert" role="alert">{{ message }}</p>
            }
            @if (resent(); as message) {
              <p class="notice-box" role="status">{{ message }}</p>
            }
            <button type="button" [disabled]="resending()" (click)="resend()">
              Resend verification email
            </button>
          }
        </div>
      }

      <h2>Two-step sign-in</h2>
      <app-two-step-section />

      <h2>Change password</h2>
      <p class="hint">Your other sessions are signed out; this one stays.</p>
      <app-simple-form
        formId="password"
        submitLabel="Change password"
        [fields]="passwordFields"
        [action]="changePassword"
      />

      <h2>Change email</h2>
      <p class="hint">We mail a link to the new address; your email changes once you follow it.</p>
      <app-simple-form
        formId="change-email"
        submitLabel="Change email"
        [fields]="emailFields"
        [action]="changeEmail"
      />

      <h2>Security activity</h2>
      <app-security-activity />
    </section>
  `,
})
export class AccountPage {
  protected readonly auth = inject(LatchkeyAuth);
  protected readonly resending = signal(false);
  protected readonly resent = signal<string | null>(null);
  protected readonly resendError = signal<string | null>(null);

  protected readonly passwordFields: FormField[] = [
    {
      name: 'current_password',
      label: 'Current password',
      type: 'password',
      autocomplete: 'current-password',
    },
    { name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password' },
    {
      name: 'code',
      label: 'Authentication code',
      type: 'text',
      autocomplete: 'one-time-code',
      hint: 'Only when two-step sign-in is on.',
    },
  ];
  protected readonly emailFields: FormField[] = [
    { name: 'new_email', label: 'New email', type: 'email', autocomplete: 'email' },
    {
      name: 'current_password',
      label: 'Current password',
      type: 'password',
      autocomplete: 'current-password',
    },
    {
      name: 'code',
      label: 'Authentication code',
      type: 'text',
      autocomplete: 'one-time-code',
      hint: 'Only when two-step sign-in is on.',
    },
  ];

  protected readonly changePassword = async (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> => {
    const result = await this.auth.changePassword(
      values['current_password'] ?? '',
      values['new_password'] ?? '',
      { code: values['code'] ?? '' },
    );
    return result.ok
      ? { ok: true, value: 'Password changed. Your other sessions have been signed out.' }
      : result;
  };

  protected readonly changeEmail = (
    values: Record<string, string>,
  ): Promise<LatchkeyResult<string>> =>
    this.auth.changeEmail(values['new_email'] ?? '', values['current_password'] ?? '', {
      code: values['code'] ?? '',
    });

  protected async resend(): Promise<void> {
    this.resending.set(true);
    this.resent.set(null);
    this.resendError.set(null);
    const result = await this.auth.requestVerificationEmail();
    this.resending.set(false);
    if (result.ok) this.resent.set(result.value);
    else {
      const wait = result.code === 'rate_limited' ? retryAfterText(result.retryAfterSeconds) : '';
      this.resendError.set(wait === '' ? result.message : `${result.message} ${wait}`);
    }
  }
}
