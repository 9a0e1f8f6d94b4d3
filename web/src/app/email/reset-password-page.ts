import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { LatchkeyAuth, type LatchkeyResult } from '@latchkey/angular';
import { type FormField, SimpleForm } from '../shared/simple-form';
import { readLinkToken } from './link-token';

/** Sets a new password with the token of a reset link; then the user logs in with it. */
@Component({
  selector: 'app-reset-password-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SimpleForm, RouterLink],
  template: `
    <section class="narrow">
      <h1>Choose a new password</h1>
      @if (token === null) {
        <p class="alert" role="alert">
          This page needs the link from your reset mail. Open the link again, or ask for a new one.
        </p>
        <p class="aside"><a routerLink="/forgot-password">Send a new reset link</a></p>
      } @else if (done(); as message) {
        <p class="notice-box" role="status">{{ message }}</p>
        <p class="aside"><a routerLink="/login">Log in</a> with your new password.</p>
      } @else {
        <app-simple-form
          formId="reset"
          submitLabel="Reset password"
          [fields]="fields"
          [action]="reset"
          (succeeded)="done.set($event)"
        />
        <p class="aside">
          Link expired? <a routerLink="/forgot-password">Send a new reset link</a>
        </p>
      }
    </section>
  `,
})
export class ResetPasswordPage {
  readonly #auth = inject(LatchkeyAuth);
  protected readonly token = readLinkToken();
  protected readonly done = signal<string | null>(null);
  protected readonly fields: FormField[] = [
    {
      name: 'new_password',
      label: 'New password',
      type: 'password',
      autocomplete: 'new-password',
      hint: 'At least 8 characters. Long passphrases are best; common passwords are refused.',
    },
  ];
  protected readonly reset = (values: Record<string, string>): Promise<LatchkeyResult<string>> =>
    this.#auth.resetPassword(this.token ?? '', values['new_password'] ?? '');
}
