import { Component, inject, signal } from '@angular/core';
import { ActivatedRoute, Router } from '@angular/router';
import { LatchkeyAuth, safeReturnUrl } from '@latchkey/angular';

@Component({
  selector: 'app-login-page',
  template: `
    <h1>Log in</h1>
    <form (submit)="$event.preventDefault(); submit(email.value, password.value)">
      <label>Email <input #email type="email" autocomplete="username" required /></label>
      <label>
        Password <input #password type="password" autocomplete="current-password" required />
      </label>
      <button type="submit" [disabled]="busy()">Log in</button>
      @if (error(); as message) {
        <p role="alert">{{ message }}</p>
      }
    </form>
  `,
})
export class LoginPage {
  readonly #auth = inject(LatchkeyAuth);
  readonly #router = inject(Router);
  readonly #route = inject(ActivatedRoute);
  protected readonly busy = signal(false);
  protected readonly error = signal('');

  protected async submit(email: string, password: string): Promise<void> {
    this.busy.set(true);
    const result = await this.#auth.login(email, password);
    this.busy.set(false);
    if (!result.ok) return this.error.set(result.message);
    const returnUrl = this.#route.snapshot.queryParamMap.get('returnUrl');
    await this.#router.navigateByUrl(safeReturnUrl(returnUrl, '/account'));
  }
}
