import {
  ChangeDetectionStrategy,
  Component,
  type ElementRef,
  Injector,
  afterNextRender,
  inject,
  input,
  output,
  signal,
  viewChild,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import type { LatchkeyResult } from '@latchkey/angular';
import { retryAfterText } from './retry-after-text';

/**
 * The email + password form of the login and register pages: real labels, the server's message
 * in a `role="alert"` element, field errors tied to their inputs, no double submit. A failed
 * submission keeps the email and clears the password, and moves focus to the message, so that
 * keyboard and screen-reader users land on what went wrong (WCAG 2.2, 3.3.1 Error
 * Identification). A taken email marks the email field and links to the login page; a throttled
 * attempt says when to try again (the server's Retry-After).
 */
@Component({
  selector: 'app-credentials-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [RouterLink],
  template: `
    <form class="card form" novalidate (submit)="$event.preventDefault(); submit()">
      @if (error(); as message) {
        <p class="alert" role="alert" tabindex="-1" #alert>
          {{ message }}
          @if (emailTaken()) {
            <a routerLink="/login">Log in with this email</a>
          }
        </p>
      }
      <div class="field">
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="username"
          inputmode="email"
          [value]="email()"
          (input)="email.set($any($event.target).value)"
          [attr.aria-invalid]="fieldErrors()['email'] ? 'true' : null"
          [attr.aria-describedby]="fieldErrors()['email'] ? 'email-error' : null"
        />
        @if (fieldErrors()['email']; as problem) {
          <p class="field-error" id="email-error">{{ problem }}</p>
        }
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          [type]="showPassword() ? 'text' : 'password'"
          [attr.autocomplete]="passwordAutocomplete()"
          [value]="password()"
          (input)="password.set($any($event.target).value)"
          [attr.aria-invalid]="fieldErrors()['password'] ? 'true' : null"
          [attr.aria-describedby]="fieldErrors()['password'] ? 'password-error' : passwordHintId()"
        />
        <button
          type="button"
          class="link toggle"
          aria-controls="password"
          [attr.aria-pressed]="showPassword()"
          (click)="showPassword.set(!showPassword())"
        >
          Show password
        </button>
        @if (fieldErrors()['password']; as problem) {
          <p class="field-error" id="password-error">{{ problem }}</p>
        } @else if (passwordHint(); as hint) {
          <p class="hint" id="password-hint">{{ hint }}</p>
        }
      </div>
      <button type="submit" class="primary" [disabled]="pending()" [attr.aria-busy]="pending()">
        {{ submitLabel() }}
        @if (pending()) {
          <span class="spinner" aria-hidden="true"></span>
        }
      </button>
    </form>
  `,
})
export class CredentialsForm {
  /** The submit button's name ("Log in", "Register"). */
  readonly submitLabel = input.required<string>();
  readonly passwordAutocomplete = input<'current-password' | 'new-password'>('current-password');
  readonly passwordHint = input<string | null>(null);
  /** What submitting does; the form shows its failure. */
  readonly action = input.required<(email: string, password: string) => Promise<LatchkeyResult>>();
  readonly succeeded = output<void>();

  protected readonly email = signal('');
  protected readonly password = signal('');
  protected readonly pending = signal(false);
  protected readonly error = signal<string | null>(null);
  protected readonly fieldErrors = signal<Record<string, string>>({});
  protected readonly emailTaken = signal(false);
  protected readonly showPassword = signal(false);
  private readonly alert = viewChild<ElementRef<HTMLElement>>('alert');
  readonly #injector = inject(Injector);

  protected passwordHintId(): string | null {
    return this.passwordHint() === null ? null : 'password-hint';
  }

  protected async submit(): Promise<void> {
    if (this.pending()) return;
    this.pending.set(true);
    this.error.set(null);
    this.fieldErrors.set({});
    this.emailTaken.set(false);
    const result = await this.action()(this.email(), this.password());
    this.pending.set(false);
    if (result.ok) {
      this.succeeded.emit();
      return;
    }
    const wait = result.code === 'rate_limited' ? retryAfterText(result.retryAfterSeconds) : '';
    this.error.set(wait === '' ? result.message : `Too many attempts. ${wait}`);
    const taken = result.code === 'email_taken';
    this.emailTaken.set(taken);
    this.fieldErrors.set(
      taken ? { ...result.fields, email: 'An account with this email exists.' } : result.fields,
    );
    this.password.set('');
    this.showPassword.set(false);
    afterNextRender(() => this.alert()?.nativeElement.focus(), { injector: this.#injector });
  }
}
