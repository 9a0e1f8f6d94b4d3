import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { LatchkeyAuth, type LatchkeyResult } from '@latchkey/angular';
import { type FormField, SimpleForm } from '../shared/simple-form';

/** Asks for a reset link; the confirmation is the same text whatever address was typed. */
@Component({
  selector: 'app-forgot-password-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SimpleForm, RouterLink],
  template: `
    <section class="narrow">
      <h1>Forgot your password?</h1>
      @if (sent(); as message) {
        <p class="notice-box" role="status">{{ message }}</p>
        <p class="aside">The link works for an hour. <a routerLink="/login">Back to log in</a></p>
      } @else {
        <p class="lead">Type the email of your account and we will mail you a link to reset it.</p>
        <app-simple-form
          formId="forgot"
          submitLabel="Send reset link"
          [fields]="fields"
          [action]="send"
          (succeeded)="sent.set($event)"
        />
        <p class="aside">Remembered it? <a routerLink="/login">Log in</a></p>
      }
    </section>
  `,
})
export class ForgotPasswordPage {
  readonly #auth = inject(LatchkeyAuth);
  protected readonly sent = signal<string | null>(null);
  protected readonly fields: FormField[] = [
    { name: 'email', label: 'Email', type: 'email', autocomplete: 'username' },
  ];
  protected readonly send = (values: Record<string, string>): Promise<LatchkeyResult<string>> =>
    this.#auth.forgotPassword(values['email'] ?? '');
}
