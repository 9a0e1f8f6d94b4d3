import { ChangeDetectionStrategy, Component, computed, inject, input, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { LatchkeyAuth, type LatchkeyResult } from '@latchkey/angular';
import { SimpleForm } from '../shared/simple-form';
import { readLinkToken } from './link-token';

/** The two pages a mailed link opens that need only a click: verify and confirm an address. */
export type EmailTokenKind = 'verify' | 'confirm';

const TEXTS = {
  verify: {
    heading: 'Verify your email address',
    lead: 'Press the button to confirm that this address is yours.',
    button: 'Verify email',
  },
  confirm: {
    heading: 'Confirm your new email address',
    lead: 'Press the button to make this address the email of your account.',
    button: 'Confirm email',
  },
} as const;

/**
 * `/verify-email` and `/confirm-email` (route data `kind`). Nothing is spent when the page
 * loads (a mail scanner may load it): only the button does.
 */
@Component({
  selector: 'app-email-token-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [SimpleForm, RouterLink],
  template: `
    <section class="narrow">
      <h1>{{ texts().heading }}</h1>
      @if (token === null) {
        <p class="alert" role="alert">
          This page needs the link from your mail. Open the link again, or ask for a new one from
          your account page.
        </p>
      } @else if (done(); as message) {
        <p class="notice-box" role="status">{{ message }}</p>
        <p class="aside">
          @if (auth.isSignedIn()) {
            <a routerLink="/account">Go to your account</a>
          } @else {
            <a routerLink="/login">Log in</a>
          }
        </p>
      } @else {
        <p class="lead">{{ texts().lead }}</p>
        <app-simple-form
          [formId]="kind()"
          [submitLabel]="texts().button"
          [action]="spend"
          (succeeded)="done.set($event)"
        />
      }
    </section>
  `,
})
export class EmailTokenPage {
  protected readonly auth = inject(LatchkeyAuth);
  readonly kind = input<EmailTokenKind>('verify');
  protected readonly token = readLinkToken();
  protected readonly done = signal<string | null>(null);
  protected readonly texts = computed(() => TEXTS[this.kind()]);
  protected readonly spend = (): Promise<LatchkeyResult<string>> =>
    this.kind() === 'verify'
      ? this.auth.verifyEmail(this.token ?? '')
      : this.auth.confirmEmailChange(this.token ?? '');
}
